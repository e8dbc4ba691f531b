"""`build.py --selftest`: the cleaning rules, filters, language mapping, splits and parsers on built-in
examples (deterministic, < 1 s). Raises AssertionError on the first wrong result.
"""

from __future__ import annotations

from data.build import langid_ok
from data.clean import (PLACEHOLDER, clean_text, dedup_key, mono_reason, pair_reason, strip_accelerators, strip_markup,
                        strip_placeholders, text_reason, word_count)
from data.common import ENG, fasttext_label, locale_to_flores, split_of
from data.src_debian import join_lines, units
from data.src_english import brown_detokenize


def selftest() -> None:
    """Cleaning rules on built-in examples; raises AssertionError on the first wrong result."""
    cases = [
        (clean_text("_Open the selected file"), "Open the selected file"),
        (clean_text("&Save the document as…"), "Save the document as…"),
        (clean_text("ファイルを開く(_O)..."), "ファイルを開く..."),
        (clean_text("열기(O)"), "열기"),
        (clean_text("Sa~ve the current document"), "Save the current document"),
        (clean_text("Could not open '%s': %s"), "Could not open"),
        (clean_text("Deleted %d of %lu files in %1$s"), "Deleted of files in"),
        (clean_text("%s: cannot open '%s': %s.\n"), "cannot open"),
        (clean_text("unnamed portal parameter $%d"), "unnamed portal parameter"),
        (clean_text("could not fork worker process: %m"), "could not fork worker process"),
        (clean_text("Usage: @GPGCONF@ [options]", interior="mark"), f"Usage: {PLACEHOLDER} [options]"),
        (clean_text("Deleted %d of %lu files", interior="mark"), f"Deleted {PLACEHOLDER} of {PLACEHOLDER} files"),
        (clean_text("Hello {name}, you have {0} new messages"), "Hello, you have new messages"),
        (clean_text("Install $PACKAGE into ${PREFIX}/bin"), "Install into /bin"),
        (clean_text("<b>Bold</b> and <ahelp hid=\".\">help text</ahelp> &amp; more"), "Bold and help text & more"),
        (clean_text("%PRODUCTNAME Writer opens the file"), "LibreOffice Writer opens the file"),
        (clean_text("100%% of the disk is used"), "100% of the disk is used"),
        (clean_text("Tom&Jerry and R&D stay"), "Tom&Jerry and R&D stay"),
        (clean_text("Drag && drop the items"), "Drag & drop the items"),
        (clean_text("Tab\there\x07 and\u200b zero\u00a0width"), "Tab here and zero width"),
        (clean_text("Cafe\u0301 au lait"), "Café au lait"),
        (strip_markup("a &lt;b&gt;tag&lt;/b&gt; here"), "a  tag  here"),
        (strip_placeholders("%(count)d items"), "  items"),
        (strip_accelerators("snake_case stays"), "snake_case stays"),
        (strip_accelerators("اِقفل/أعتق طبقات أ_خرى"), "اِقفل/أعتق طبقات أخرى"),
        (strip_accelerators("Фа_йл g_io_channel"), "Файл g_io_channel"),
    ]
    for got, want in cases:
        assert got == want, f"clean: got {got!r}, want {want!r}"
    assert pair_reason("Open the selected file", "Ouvrir le fichier sélectionné", "fra_Latn") is None
    assert pair_reason("Open the selected file", "Open the selected file", "fra_Latn") == "untranslated"
    assert pair_reason("Open file", "Ouvrir le fichier", "fra_Latn") == "eng_too_short"
    assert pair_reason("Open the selected file", "Открыть выбранный файл", "rus_Cyrl") is None
    assert pair_reason("Open the selected file", "Open the selected file", "rus_Cyrl") == "wrong_script"
    assert pair_reason("Open the selected file", "打开所选文件", "zho_Hans") is None
    assert pair_reason("Open the selected file", "x" * 201, "fra_Latn") == "too_long"
    assert pair_reason("Open the selected file now", "----- ===== 12345 ok", "fra_Latn") == "non_letters"
    assert pair_reason(f"Deleted {PLACEHOLDER} files now", "Fichiers supprimés maintenant", "fra_Latn") == "eng_placeholder"
    assert text_reason("选择的文件已经被打开了", "jpn_Jpan") == "wrong_script"  # Han only, no kana
    assert text_reason("選択したファイルを開きます", "jpn_Jpan") is None
    assert text_reason("चयनित फ़ाइल खोलें अभी", "hin_Deva") is None  # vowel signs count as letters
    assert mono_reason("This sentence has exactly five words.", ENG) is None
    assert mono_reason("Too short here.", ENG) == "too_short"
    assert abs(word_count("我们今天去公园散步", "zho_Hans") - 9 / 1.7) < 1e-9
    assert dedup_key("Open  the File!") == dedup_key("open the file")
    assert locale_to_flores("pt_BR") == "por_Latn" and locale_to_flores("zh-CN") == "zho_Hans"
    assert locale_to_flores("zh_TW") == "zho_Hant" and locale_to_flores("sr@latin") is None
    assert locale_to_flores("de-DE") == "deu_Latn" and locale_to_flores("ar-MA") == "arb_Arab"
    assert fasttext_label("zho_Hans") == "zh" and fasttext_label("arb_Arab") == "ar"
    assert langid_ok([("fr", 0.97), ("en", 0.01), ("it", 0.01)], "fra_Latn")
    assert langid_ok([("ru", 0.6), ("uk", 0.35), ("bg", 0.01)], "ukr_Cyrl")
    assert not langid_ok([("ru", 0.95), ("uk", 0.04), ("bg", 0.01)], "ukr_Cyrl")
    assert not langid_ok([("en", 0.9), ("de", 0.05), ("nl", 0.01)], "fra_Latn")
    assert brown_detokenize("The/at jury/nn said/vbd ``/`` no/at ''/'' ./.") == 'The jury said "no".'
    assert brown_detokenize("It/pps doesn't/doz* work/vb ,/, he/pps said/vbd") == "It doesn't work, he said"
    assert units(" First paragraph here.\n .\n * item one\n * item two\n  verbatim line") == \
        ["First paragraph here.", "item one", "item two"]
    assert join_lines(["次の特", "徴があります。", "Next line"]) == "次の特徴があります。 Next line"
    splits = [split_of(f"doc{i}") for i in range(20000)]
    assert abs(splits.count("train") / 20000 - 0.96) < 0.01 and splits.count("test") > 250
    assert split_of("lo-help:text/a.html") == split_of("lo-help:text/a.html")
    print(f"selftest: {len(cases)} cleaning cases and the filter, language, split and parser checks passed")
