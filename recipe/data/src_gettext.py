"""Sources `gettext` and `lo-ui`: compiled message catalogs (`*.mo`), msgid English, msgstr the translation.

- `gettext`: every `*.mo` under /usr/share/locale of this machine, plus those in a list of
  translation-heavy Debian packages fetched with `apt-get download` (EXTRA_DEBS, ~110 MB of .debs).
- `lo-ui`: LibreOffice's UI catalogs from `libreoffice-l10n-xx` (usr/lib/libreoffice/program/resource).

A catalog is a bag of independent messages, not a document, and a few large catalogs hold most of them,
so splitting by catalog would leave valid/test nearly empty. The document id is therefore one message of
one catalog, `gettext:<domain>#<first 8 hex of sha1(msgid)>` (`lo-ui:sw#1a2b3c4d`): the same in every
language, so all translations of a message fall in one split; the build's cross-split guard drops a
text already claimed by another split (the same msgid in another catalog).
"""

from __future__ import annotations

import gettext
import hashlib
import subprocess
import time
from pathlib import Path
from typing import Dict, Iterable, Iterator, List, Optional, Tuple

from data.common import (CANDIDATES, JsonlWriter, SourceMeta, apt_download, deb_extract, deb_version,
                         extracted_path, locale_to_flores, log, write_json, meta_path)

#: Translation-heavy packages not installed here, each with its catalogs for ~50–150 locales.
EXTRA_DEBS = (
    "gimp-data", "inkscape", "evolution-common", "vlc-l10n", "gnucash-common", "digikam-data", "kdenlive-data",
    "gnome-control-center-data", "nautilus-data", "evince-common", "gedit-common", "aptitude-common",
    "libgtk-3-common", "libgtk-4-common", "gnome-shell-common", "mutter-common", "gnome-software-common",
    "rhythmbox-data", "totem-common", "thunar-data", "pidgin-data", "hexchat-common", "filezilla-common",
    "shotwell-common", "brasero-common", "geany-common", "audacity-data", "darktable", "gnome-disk-utility",
    "gnome-system-monitor", "file-roller", "seahorse", "gnome-terminal-data", "kmymoney", "calligra-libs",
)

#: LibreOffice's language codes for the candidate languages (Brazilian Portuguese is FLORES' por_Latn).
LO_CODES: Dict[str, str] = {
    "fra_Latn": "fr", "deu_Latn": "de", "spa_Latn": "es", "ita_Latn": "it", "por_Latn": "pt-br", "rus_Cyrl": "ru",
    "ukr_Cyrl": "uk", "ell_Grek": "el", "zho_Hans": "zh-cn", "jpn_Jpan": "ja", "kor_Hang": "ko", "arb_Arab": "ar",
    "hin_Deva": "hi", "heb_Hebr": "he",
}


def read_mo(path: Path) -> Iterator[Tuple[str, str]]:
    """(msgid, msgstr) of a compiled catalog: context dropped, plurals as their singular, header skipped."""
    try:
        with path.open("rb") as f:
            catalog = gettext.GNUTranslations(f)._catalog  # type: ignore[attr-defined]
    except Exception as err:  # a malformed catalog must not stop the source
        log(f"skipping unreadable catalog {path}: {err}")
        return
    for key, value in catalog.items():
        if isinstance(key, tuple):
            if key[1] != 0:
                continue
            key = key[0]
        msgid = key.split("\x04", 1)[-1]  # msgctxt \x04 msgid
        if msgid and value:
            yield msgid, value


def _dpkg_owners() -> Dict[str, str]:
    """Installed path → package, from /var/lib/dpkg/info/*.list (much faster than `dpkg -S` per file)."""
    owners: Dict[str, str] = {}
    for lst in Path("/var/lib/dpkg/info").glob("*.list"):
        pkg = lst.name[: -len(".list")].split(":")[0]
        for line in lst.read_text(encoding="utf-8", errors="replace").splitlines():
            if line.endswith(".mo"):
                owners[line] = pkg
    return owners


def _installed_versions(pkgs: Iterable[str]) -> Dict[str, str]:
    names = sorted(set(pkgs))
    if not names:
        return {}
    res = subprocess.run(["dpkg-query", "-W", "-f", "${Package} ${Version}\n", *names], capture_output=True, text=True)
    return dict(line.split(" ", 1) for line in res.stdout.splitlines() if " " in line)


def _catalogs(root: Path) -> Iterator[Tuple[str, Path]]:
    """(FLORES language, .mo path) for candidate languages under a locale tree."""
    for mo in sorted(root.glob("*/LC_MESSAGES/*.mo")):
        lang = locale_to_flores(mo.parent.parent.name)
        if lang in CANDIDATES:
            yield lang, mo


def _write_catalog(out: JsonlWriter, doc: str, lang: str, mo: Path) -> int:
    n = 0
    for msgid, msgstr in read_mo(mo):
        msg_doc = f"{doc}#{hashlib.sha1(msgid.encode('utf-8')).hexdigest()[:8]}"
        out.write({"t": "p", "doc": msg_doc, "lang": lang, "eng": msgid, "text": msgstr})
        n += 1
    return n


def extract_gettext(force: bool = False) -> None:
    """Source `gettext`: installed catalogs, then those of EXTRA_DEBS."""
    path = extracted_path("gettext")
    if path.exists() and not force:
        return
    t0 = time.time()
    meta = SourceMeta("gettext", "per package (mostly GPL-2+ / LGPL-2.1+); see /usr/share/doc/<package>/copyright")
    out = JsonlWriter(path)
    owners = _dpkg_owners()
    used: Dict[str, int] = {}
    for lang, mo in _catalogs(Path("/usr/share/locale")):
        pkg = owners.get(str(mo), "unknown")
        used[pkg] = used.get(pkg, 0) + _write_catalog(out, f"gettext:{mo.stem}", lang, mo)
    versions = _installed_versions(p for p in used if p != "unknown")
    meta.packages += [{"kind": "installed", "name": p, "version": versions.get(p, "?")} for p in sorted(used)]
    debs = apt_download(EXTRA_DEBS)
    for pkg in EXTRA_DEBS:
        if pkg not in debs:
            meta.notes.append(f"{pkg}: apt-get download failed")
            continue
        root = deb_extract(debs[pkg])
        n = 0
        for locale_root in sorted({p.parent.parent.parent for p in root.rglob("LC_MESSAGES/*.mo")}):
            for lang, mo in _catalogs(locale_root):
                n += _write_catalog(out, f"gettext:{mo.stem}", lang, mo)
        meta.packages.append({"kind": "deb", "name": pkg, "version": deb_version(debs[pkg]), "entries": str(n)})
    out.close()
    meta.seconds = time.time() - t0
    write_json(meta_path("gettext"), meta.to_json())
    log(f"gettext: {out.rows} catalog entries in {meta.seconds:.0f} s")


def extract_lo_ui(languages: List[str], force: bool = False) -> None:
    """Source `lo-ui`: LibreOffice UI catalogs of `libreoffice-l10n-xx` for the given languages."""
    path = extracted_path("lo-ui")
    if path.exists() and not force:
        return
    t0 = time.time()
    meta = SourceMeta("lo-ui", "MPL-2.0 (LibreOffice)")
    out = JsonlWriter(path)
    wanted = {lang: LO_CODES[lang] for lang in languages if lang in LO_CODES}
    debs = apt_download(f"libreoffice-l10n-{code}" for code in wanted.values())
    for lang, code in wanted.items():
        pkg = f"libreoffice-l10n-{code}"
        if pkg not in debs:
            meta.notes.append(f"{pkg}: not in Debian")
            continue
        root = deb_extract(debs[pkg])
        n = 0
        for mo in sorted(root.glob("usr/lib/libreoffice/program/resource/*/LC_MESSAGES/*.mo")):
            n += _write_catalog(out, f"lo-ui:{mo.stem}", lang, mo)
        meta.packages.append({"kind": "deb", "name": pkg, "version": deb_version(debs[pkg]), "entries": str(n)})
    out.close()
    meta.seconds = time.time() - t0
    write_json(meta_path("lo-ui"), meta.to_json())
    log(f"lo-ui: {out.rows} catalog entries in {meta.seconds:.0f} s")


def count_pairs(root: Path = Path("/usr/share/locale")) -> Dict[str, int]:
    """Catalog entries with an English msgid of ≥ 3 words per FLORES language (for choosing languages)."""
    counts: Dict[str, int] = {}
    for mo in root.glob("*/LC_MESSAGES/*.mo"):
        lang: Optional[str] = locale_to_flores(mo.parent.parent.name)
        if not lang:
            continue
        counts[lang] = counts.get(lang, 0) + sum(1 for k, v in read_mo(mo) if len(k.split()) >= 3 and v != k)
    return counts
