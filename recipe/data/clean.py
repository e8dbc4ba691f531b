"""Text cleaning and row filters of the `data` stage (docs/recipe.md, "Cleaning"; docs/data.md, "Cleaning rules").

`clean_text` turns one UI string / help paragraph into plain prose: markup, format placeholders,
accelerators and control characters removed, NFC, single spaces. The `*_reason` filters return why a row
is dropped (a key of the drop counters in sources.json) or None to keep it.
"""

from __future__ import annotations

import html
import re
import unicodedata
from typing import Dict, Optional

#: Longest text row: the segmenter's cap and the LCM paper's best setting (arXiv 2412.08821 §2.2).
MAX_CHARS = 200
#: docs/recipe.md: parallel rows need at least 3 words; mono sentences 5–40 words.
MIN_WORDS = 3
MONO_MIN_WORDS, MONO_MAX_WORDS = 5, 40
#: Characters per word for scripts written without spaces. Chinese averages about 1.5 characters per
#: word and Japanese about 2 (with kana); 1.7 keeps the 5–40 word window near the same sentence lengths.
CJK_CHARS_PER_WORD = 1.7

# --- markup ------------------------------------------------------------------------------------------
_TAG = re.compile(r"</?[A-Za-z!?][^<>]{0,300}>")
_PRODUCT = re.compile(r"%PRODUCTNAME|\$\[officename\]|%PRODUCTNAME%")
_PRODUCT_VERSION = re.compile(r"%PRODUCTVERSION|\$\[officeversion\]|%PRODUCTEXTENSION")

# --- placeholders ---------------------------------------------------------------------------------------
_PLACEHOLDERS = [
    re.compile(r"%\([\w.-]+\)[-+0#]*\d*(?:\.\d+)?[sdifrxXeEgGc]"),            # Python %(name)s
    re.compile(r"%(?:\d+\$)?[-+0#']*(?:\d+|\*)?(?:\.(?:\d+|\*))?"
               r"(?:hh|h|ll|l|L|q|j|z|t|I64|I32|I)?[diouxXeEfFgGaAcsSpnm@]"),  # printf %s %1$d %-10.3f %lu %m %@
    re.compile(r"%<PRI\w+>"),                                                 # %<PRId64>
    re.compile(r"@[A-Z][A-Z0-9_]*@"),                                         # autoconf @GPGCONF@
    re.compile(r"%[1-9]\d?(?!\d)"),                                           # Qt / LibreOffice %1
    re.compile(r"%[A-Z][A-Z0-9_]+%?"),                                        # %TITLE, %FILE%
    re.compile(r"\$\{[^{}\s]{1,40}\}|\$\([A-Za-z0-9_]{1,40}\)|\$[A-Za-z_][A-Za-z0-9_]*"),  # ${x} $(ARG1) $VAR
    re.compile(r"\{\{[^{}]{0,40}\}\}|\{[\w.:!<>=^+#\[\]-]{0,40}\}"),          # {name} {0} {0:.2f} {{x}}
]
_PERCENT_LITERAL = re.compile(r"%%")

# --- accelerators ------------------------------------------------------------------------------------
_ACCEL_CJK_MARKED = re.compile(r"\s*[(（][_&~][A-Za-z0-9][)）]")
_ACCEL_CJK_BARE = re.compile(r"(?<=[\u3040-\u30ff\u3400-\u9fff\uac00-\ud7af])\s*[(（][A-Z0-9][)）]")
_ACCEL_UNDERSCORE = re.compile(r"(?<![\w_])_(?=[^\W_])")
# Inside a word, `_` is an identifier (`g_io_channel`) between ASCII letters but a mnemonic next to a
# non-ASCII letter (Arabic "أ_خرى", Cyrillic "Фа_йл").
_ACCEL_UNDERSCORE_INNER = re.compile(r"(?<=[^\W\d_\x00-\x7f])_(?=[^\W\d_])|(?<=[^\W\d_])_(?=[^\W\d_\x00-\x7f])")
_ACCEL_AMP = re.compile(r"(?<![\w&])&(?=[^\W_])")
_ACCEL_TILDE = re.compile(r"~(?=[^\W_])")

# --- tidying ----------------------------------------------------------------------------------------
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u00ad\u200b\u2060\ufeff\ufffc\ufffd]")
_SPACES = re.compile(r"[\s\u00a0\u2000-\u200a\u202f\u205f\u3000]+")
_EMPTY_PAIRS = re.compile(r"(?:''|\"\"|“”|‘’|„“|«\s*»|‹\s*›|「」|『』|\(\s*\)|\[\s*\]|（\s*）|“ ”|' ')")
_LEADING_PUNCT = re.compile(r"^[\s,;:.\-–—]+(?=\S)")
_SPACE_BEFORE_COMMA = re.compile(r"\s+(?=[,.](?:\s|$))")

# --- scripts (ranges include combining marks so Indic vowel signs count as letters) -------------------
_HAN = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
SCRIPT_CHARS: Dict[str, "re.Pattern[str]"] = {
    "Latn": re.compile(r"[A-Za-z\u00c0-\u024f\u1e00-\u1eff]"),
    "Cyrl": re.compile(r"[\u0400-\u052f\u1c80-\u1c8f\ua640-\ua69f]"),
    "Grek": re.compile(r"[\u0370-\u03ff\u1f00-\u1fff]"),
    "Hans": re.compile(f"[{_HAN}]"),
    "Hant": re.compile(f"[{_HAN}]"),
    "Jpan": re.compile(f"[{_HAN}\u3040-\u30ff\u31f0-\u31ff\uff66-\uff9f]"),
    "Hang": re.compile(r"[\uac00-\ud7af\u1100-\u11ff\u3130-\u318f]"),
    "Arab": re.compile(r"[\u0600-\u06ff\u0750-\u077f\u08a0-\u08ff\ufb50-\ufdff\ufe70-\ufeff]"),
    "Deva": re.compile(r"[\u0900-\u097f\ua8e0-\ua8ff]"),
    "Hebr": re.compile(r"[\u0590-\u05ff\ufb1d-\ufb4f]"),
}
_LETTER = re.compile(r"[^\W\d_]")
_NONSPACE = re.compile(r"\S")
_CJK_CHAR = re.compile(f"[{_HAN}\u3040-\u30ff\u31f0-\u31ff]")
_KANA = re.compile(r"[\u3040-\u30ff]")
#: Scripts written without spaces between words.
UNSPACED = {"Hans", "Hant", "Jpan"}
#: Share of letters that must be in the language's own script: non-Latin text keeps embedded Latin
#: names ("LibreOffice", "APT"), so its bar is lower than Latin text's.
MIN_SCRIPT_SHARE_LATIN, MIN_SCRIPT_SHARE_OTHER = 0.8, 0.5


def normalize(text: str) -> str:
    """NFC, control and zero-width characters removed, whitespace runs → one space, trimmed."""
    text = unicodedata.normalize("NFC", text)
    text = _CONTROL.sub(" ", text)
    return _SPACES.sub(" ", text).strip()


def strip_markup(text: str) -> str:
    """Remove XML/HTML/Pango tags (keeping their content, e.g. `<ahelp>`), then decode entities."""
    text = _TAG.sub(" ", text)
    text = html.unescape(text)
    return _TAG.sub(" ", text)  # entities that encoded tags (&lt;b&gt;)


#: Stands for a removed placeholder until it is known whether it sat at an edge of the text or inside it.
PLACEHOLDER = "\ue000"
_EDGE_PUNCT = r"\s\"'`“”‘’„«»‹›「」『』()\[\]<>:;,.…!?\-–—=/|*#$"
_PH_TAIL = re.compile(f"(?:[{_EDGE_PUNCT}]*{PLACEHOLDER})+[{_EDGE_PUNCT}]*$")
_PH_HEAD = re.compile(f"^(?:[{_EDGE_PUNCT}]*{PLACEHOLDER})+[{_EDGE_PUNCT}]*")


def strip_placeholders(text: str, mark: bool = False) -> str:
    """Remove printf / Python / Qt / shell / brace format placeholders (or mark them with PLACEHOLDER); `%%` → `%`."""
    for pat in _PLACEHOLDERS:
        text = pat.sub(PLACEHOLDER if mark else " ", text)
    text = _PERCENT_LITERAL.sub("%", text)
    return text


def trim_placeholders(text: str, interior: str = "strip") -> str:
    """Cut marked placeholders at the edges with the punctuation around them ("%s: cannot open %s." →
    "cannot open"); those left inside the text are removed (`interior="strip"`) or kept as PLACEHOLDER
    (`"mark"`), so that a filter can drop a sentence with a hole in it ("cannot allocate %lu bytes")."""
    text = _PH_TAIL.sub("", text)
    text = _PH_HEAD.sub("", text)
    if interior == "strip":
        text = text.replace(PLACEHOLDER, " ")
    return text


def strip_accelerators(text: str) -> str:
    """Remove keyboard accelerators: `_File`, `&Open`, `Sa~ve`, and CJK `ファイル(_F)` / `열기(O)`."""
    text = _ACCEL_CJK_MARKED.sub("", text)
    text = _ACCEL_CJK_BARE.sub("", text)
    text = _ACCEL_UNDERSCORE.sub("", text)
    text = _ACCEL_UNDERSCORE_INNER.sub("", text)
    text = text.replace("&&", "\x00")  # Qt's escaped ampersand survives as one '&'
    text = _ACCEL_AMP.sub("", text).replace("\x00", "&")
    return _ACCEL_TILDE.sub("", text)


def tidy(text: str) -> str:
    """Repair what removals leave behind: empty quotes/brackets, doubled spaces, leading punctuation."""
    text = _SPACES.sub(" ", text)
    for _ in range(2):
        text = _EMPTY_PAIRS.sub(" ", text)
        text = _SPACES.sub(" ", text).strip()
    text = _SPACE_BEFORE_COMMA.sub("", text)
    text = _LEADING_PUNCT.sub("", text)
    text = text.strip()
    if text.endswith((" :", ":")) and not text.endswith("::"):
        text = text.rstrip(" :").rstrip()  # "Could not open %s:" → "Could not open"
    return text


def clean_text(text: str, markup: bool = True, interior: str = "strip") -> str:
    """The full cleaning of one string: markup, placeholders, accelerators, control characters, NFC.

    `interior`: what to do with a placeholder inside the text (see trim_placeholders): "strip" for
    paragraphs of documents, "mark" for sentence rows, whose filters then drop it."""
    text = unicodedata.normalize("NFC", text)
    text = _CONTROL.sub(" ", text)
    text = _PRODUCT.sub("LibreOffice", text)
    text = _PRODUCT_VERSION.sub("", text)
    if markup:
        text = strip_markup(text)
    text = strip_placeholders(text, mark=True)
    text = strip_accelerators(text)
    text = trim_placeholders(normalize(text), interior)
    return tidy(normalize(text))


def dedup_key(text: str) -> str:
    """What counts as the same text for deduplication: case-folded, punctuation and spacing ignored."""
    return " ".join(re.sub(r"[^\w]+", " ", text.casefold()).split())


# --- measures ----------------------------------------------------------------------------------------

def script_of(lang: str) -> str:
    return lang.split("_")[1]


def word_count(text: str, lang: str) -> float:
    """Words, with CJK characters counted 1/CJK_CHARS_PER_WORD word each for unspaced scripts."""
    if script_of(lang) in UNSPACED:
        cjk = len(_CJK_CHAR.findall(text))
        rest = _CJK_CHAR.sub(" ", text)
        return cjk / CJK_CHARS_PER_WORD + len([w for w in rest.split() if _LETTER.search(w)])
    return float(len(text.split()))


def letter_share(text: str, lang: str) -> float:
    """Letters (with the script's combining marks) over non-space characters."""
    pat = SCRIPT_CHARS.get(script_of(lang))
    own = len(pat.findall(text)) if pat else 0
    other = len(_LETTER.findall(pat.sub("", text) if pat else text))
    total = len(_NONSPACE.findall(text))
    return (own + other) / total if total else 0.0


def script_share(text: str, lang: str) -> float:
    """Share of the letters written in the language's own script (1.0 if the script has no range here)."""
    pat = SCRIPT_CHARS.get(script_of(lang))
    if pat is None:
        return 1.0
    own = len(pat.findall(text))
    other = len(_LETTER.findall(pat.sub("", text)))
    return own / (own + other) if own + other else 0.0


# --- row filters (return a drop reason or None) -------------------------------------------------------

def text_reason(text: str, lang: str, min_words: float = MIN_WORDS, max_chars: int = MAX_CHARS) -> Optional[str]:
    """Why one text is unusable as a sentence row of `lang`, or None."""
    if not text:
        return "empty"
    if PLACEHOLDER in text:
        return "placeholder"
    if len(text) > max_chars:
        return "too_long"
    if letter_share(text, lang) < 0.5:
        return "non_letters"
    if word_count(text, lang) < min_words:
        return "too_short"
    script = script_of(lang)
    share = script_share(text, lang)
    if share < (MIN_SCRIPT_SHARE_LATIN if script == "Latn" else MIN_SCRIPT_SHARE_OTHER):
        return "wrong_script"
    if script == "Jpan" and not _KANA.search(text) and len(_CJK_CHAR.findall(text)) > 8:
        return "wrong_script"  # Japanese prose of this length has kana; Han-only text is likely Chinese
    return None


def pair_reason(eng: str, other: str, lang: str) -> Optional[str]:
    """Why an English–`lang` pair is unusable, or None (docs/recipe.md cleaning rules)."""
    r = text_reason(eng, "eng_Latn")
    if r:
        return "eng_" + r
    # The target may be a little shorter in words (agglutinating or unspaced languages).
    r = text_reason(other, lang, min_words=2 if script_of(lang) not in UNSPACED else 1.5)
    if r:
        return r
    # docs/recipe.md drops identical pairs for non-Latin targets; a copied English string in a
    # Latin-script catalog is English too, not `lang`, so it goes as well.
    if dedup_key(eng) == dedup_key(other):
        return "untranslated"
    # Chinese runs ~0.3 characters per English character; beyond these bounds pairs were misaligned.
    ratio = (len(other) + 10) / (len(eng) + 10)
    if ratio > 3.5 or ratio < 0.15:
        return "length_ratio"
    return None


def mono_reason(text: str, lang: str) -> Optional[str]:
    """Why a sentence is unusable for auto-encoding (5–40 words, ≤ 200 characters), or None."""
    r = text_reason(text, lang, min_words=MONO_MIN_WORDS)
    if r:
        return r
    if word_count(text, lang) > MONO_MAX_WORDS:
        return "too_many_words"
    return None
