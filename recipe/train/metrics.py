"""Text metrics of the recipe: chrF (round trips, translation), ROUGE-L (summaries), REP-4 (repetition).

chrF is sacreBLEU 2.x's ``CHRF`` with its defaults (chrF2: character n-grams of
orders 1–6, whitespace removed, beta 2, averages over the "effective" orders
that have n-grams on both sides), the same definition as the engine's
src/inference/metrics/chrf.ts; ``SELFTEST_CHRF`` holds values computed by that
TypeScript file (see ``selftest``), so the two cannot drift apart silently.

ROUGE-L is Google's ``rouge_score`` ``rougeL`` F-measure (LCS of tokens,
F1 = 2PR/(P+R), no stemming) with one deliberate change to the tokenizer: words
are Unicode letter/digit runs instead of ``[a-z0-9]+`` (which deletes every
non-ASCII letter), and each Han / kana character is its own token (those
scripts do not separate words by spaces). On ASCII text both tokenizers agree.

REP-4 is the sequence-level repetition of Welleck et al. 2019 ("Neural text
generation with unlikelihood training"), as used by the LCM paper (§3, Table 3):
1 − distinct 4-grams / 4-grams of a continuation's words.

Self-test:  cd recipe && /usr/bin/python3 -m train.metrics --selftest
"""
import argparse
import re
import sys
from collections import Counter
from typing import List, Optional, Sequence, Tuple

CHAR_ORDER = 6  # sacreBLEU CHRF.CHAR_ORDER
BETA = 2  # sacreBLEU CHRF.BETA (Popović, WMT16)
_EPS = 1e-16  # sacreBLEU's smoothing constant


def _char_ngrams(sentence: str, order: int) -> List[Counter]:
    """sacreBLEU ``extract_all_char_ngrams`` with whitespace removed (``str.split`` semantics)."""
    s = "".join(sentence.split())
    return [Counter(s[i:i + n] for i in range(len(s) - n + 1)) for n in range(1, order + 1)]


def _match_statistics(hyp: Counter, ref: Counter) -> Tuple[int, int, int]:
    """sacreBLEU ``_get_match_statistics``: [hyp count (0 if ref has none), ref count, matches]."""
    match_count = 0
    hyp_count = 0
    for ng, count in hyp.items():
        hyp_count += count
        if ng in ref:
            match_count += min(count, ref[ng])
    return (hyp_count if ref else 0), sum(ref.values()), match_count


def chrf_statistics(hypothesis: str, reference: str, order: int = CHAR_ORDER) -> List[int]:
    """Flattened [hyp, ref, match] × order statistics of one segment."""
    if reference == "":
        raise ValueError("chrF needs a non-empty reference (as sacreBLEU); drop empty references before scoring")
    out: List[int] = []
    for h, r in zip(_char_ngrams(hypothesis, order), _char_ngrams(reference, order)):
        out.extend(_match_statistics(h, r))
    return out


def chrf_from_statistics(stats: Sequence[float], beta: float = BETA) -> float:
    """sacreBLEU ``CHRF._compute_f_score`` (effective order, no eps smoothing), 0–100."""
    order = len(stats) // 3
    factor = beta ** 2
    avg_prec = 0.0
    avg_rec = 0.0
    effective = 0
    for i in range(order):
        n_hyp, n_ref, n_match = stats[3 * i: 3 * i + 3]
        prec = n_match / n_hyp if n_hyp > 0 else _EPS
        rec = n_match / n_ref if n_ref > 0 else _EPS
        if n_hyp > 0 and n_ref > 0:
            avg_prec += prec
            avg_rec += rec
            effective += 1
    if effective == 0:
        return 0.0
    avg_prec /= effective
    avg_rec /= effective
    if avg_prec + avg_rec == 0:
        return 0.0
    return 100 * ((1 + factor) * avg_prec * avg_rec / (factor * avg_prec + avg_rec))


def sentence_chrf(hypothesis: str, reference: str) -> float:
    """Sentence-level chrF2 (sacreBLEU ``sentence_chrf``)."""
    return chrf_from_statistics(chrf_statistics(hypothesis, reference))


def corpus_chrf(hypotheses: Sequence[str], references: Sequence[str]) -> float:
    """Corpus-level chrF2: statistics summed over segments, then one F score (sacreBLEU ``corpus_chrf``)."""
    if len(hypotheses) != len(references):
        raise ValueError(f"{len(hypotheses)} hypotheses but {len(references)} references")
    if not hypotheses:
        raise ValueError("chrF of an empty corpus")
    total = [0] * (3 * CHAR_ORDER)
    for h, r in zip(hypotheses, references):
        for j, x in enumerate(chrf_statistics(h, r)):
            total[j] += x
    return chrf_from_statistics(total)


_CJK = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_TOKEN = re.compile(f"[{_CJK}]|[^\\W_{_CJK}]+")


def rouge_tokens(text: str) -> List[str]:
    """Lower-cased letter/digit runs; each Han or kana character alone (see the module docstring)."""
    return _TOKEN.findall(text.lower())


def _lcs(a: Sequence[str], b: Sequence[str]) -> int:
    if not a or not b:
        return 0
    prev = [0] * (len(b) + 1)
    for x in a:
        cur = [0]
        for j, y in enumerate(b):
            cur.append(prev[j] + 1 if x == y else max(prev[j + 1], cur[j]))
        prev = cur
    return prev[-1]


def rouge_l(hypothesis: str, reference: str) -> float:
    """ROUGE-L F1 (rouge_score ``rougeL``), 0–1."""
    h, r = rouge_tokens(hypothesis), rouge_tokens(reference)
    lcs = _lcs(h, r)
    if lcs == 0:
        return 0.0
    p, rec = lcs / len(h), lcs / len(r)
    return 2 * p * rec / (p + rec)


def rep_n(text: str, n: int = 4) -> float:
    """1 − distinct n-grams / n-grams of the words of ``text`` (0 when it has fewer than n words)."""
    words = rouge_tokens(text)
    grams = [tuple(words[i:i + n]) for i in range(len(words) - n + 1)]
    return 1.0 - len(set(grams)) / len(grams) if grams else 0.0


# (hypothesis, reference, sentence chrF from src/inference/metrics/chrf.ts sentenceChrf), computed with
#   npx tsx -e "import {sentenceChrf} from './src/inference/metrics/chrf.ts'; console.log(sentenceChrf(h, r))"
SELFTEST_CHRF: List[Tuple[str, str, float]] = [
    ("The cat sat on the mat.", "The cat sat on the mat.", 100.0),
    ("The cat sat on a mat", "The cat sat on the mat.", 62.46409246387829),
    ("Le chat dort sur le canapé.", "Le chat dort sur le canapé du salon.", 74.19167395896568),
    ("今天天气很好", "今天的天气很好。", 32.855510709633336),
    ("xyz", "abc def", 0.0),
    ("a", "ab", 55.55555555555556),
]
# corpusChrf over the first five pairs above, from the same TypeScript file.
SELFTEST_CORPUS_CHRF = 71.56733585920067


def selftest(verbose: bool = True) -> List[str]:
    """Compare with the TypeScript chrF values and check ROUGE-L / REP-4 on hand-computed cases; returns failures."""
    failures: List[str] = []
    for h, r, want in SELFTEST_CHRF:
        got = sentence_chrf(h, r)
        if abs(got - want) > 1e-9:
            failures.append(f"chrF({h!r}, {r!r}) = {got!r}, TypeScript says {want!r}")
    got = corpus_chrf([c[0] for c in SELFTEST_CHRF[:5]], [c[1] for c in SELFTEST_CHRF[:5]])
    if abs(got - SELFTEST_CORPUS_CHRF) > 1e-9:
        failures.append(f"corpus chrF = {got!r}, TypeScript says {SELFTEST_CORPUS_CHRF!r}")
    # ROUGE-L by hand: hyp "the cat sat" vs ref "the cat was sat here": LCS 3, P 1, R 3/5 → F 0.75.
    cases: List[Tuple[str, float, float]] = [
        ("rougeL", rouge_l("The cat sat.", "the cat was sat here"), 0.75),
        ("rougeL CJK", rouge_l("今天好", "今天很好"), 2 * 1.0 * 0.75 / 1.75),
        ("rougeL disjoint", rouge_l("a b", "c d"), 0.0),
        # "a b c d a b c d": 5 4-grams, 4 distinct → 1 − 4/5.
        ("rep4", rep_n("a b c d a b c d"), 0.2),
        ("rep4 short", rep_n("a b c"), 0.0),
    ]
    for name, got_v, want_v in cases:
        if abs(got_v - want_v) > 1e-12:
            failures.append(f"{name} = {got_v!r}, expected {want_v!r}")
    if rouge_tokens("Hello, World_x 42!") != ["hello", "world", "x", "42"]:
        failures.append(f"rouge_tokens ASCII split differs from rouge_score: {rouge_tokens('Hello, World_x 42!')}")
    if verbose:
        print("metrics selftest: " + ("ok" if not failures else f"{len(failures)} failure(s)"))
        for f in failures:
            print("  " + f)
    return failures


def main(argv: Optional[List[str]] = None) -> int:
    ap = argparse.ArgumentParser(description="Recipe text metrics.")
    ap.add_argument("--selftest", action="store_true", help="check against values from the TypeScript chrF")
    args = ap.parse_args(argv)
    if args.selftest:
        return 1 if selftest() else 0
    ap.print_help()
    return 0




if __name__ == "__main__":
    sys.exit(main())
