/**
 * Abbreviation data for the sentence splitter (segmenter.ts), per ISO 639-1 language.
 *
 * ICU's sentence rules (Unicode UAX #29, which `Intl.Segmenter` implements) split after every period
 * that is followed by a space and a capital or a number, so "Dr. Smith", "M. Martin" and "Проф. Иванов"
 * come out as two sentences. These lists undo those splits. Words are lowercase, written without the
 * final period; a word may contain inner periods ("e.g", "π.χ"). Lists are hand-made from common usage
 * (style guides and abbreviation tables of each language); they are not exhaustive, only the frequent
 * cases where a wrong split would be common in prose.
 */

/**
 * Abbreviations that (practically) never end a sentence: titles before a name, and words that announce
 * a reference or an example. A split after them is always undone, whatever follows.
 */
export const TITLES: Readonly<Record<string, string>> = {
  en: 'mr mrs ms mx messrs dr prof rev fr st mt ft gen col capt cpt lt sgt maj adm cmdr gov sen rep pres hon supt vs cf viz e.g i.e',
  fr: 'm mm mme mmes mlle mlles dr pr me mgr cf chap vol ste st c.-à-d',
  de: 'hr hrn fr frl dr prof vgl nr hl st z.b d.h',
  nl: 'dhr mevr mw mr dr prof ir ing drs st',
  es: 'sr sra srta sres sras dña dn dr dra lic ing avda av prof profa sto sta',
  pt: 'sr sra srta srs dr dra prof profa av exmo exma sto sta',
  it: 'sig sigg sig.ra sig.na dott dott.ssa prof avv ing geom rag arch on',
  pl: 'prof dr inż mgr ks hab płk gen',
  ru: 'проф акад доц ул пер пл им тов гр рис табл гл напр см стр ср',
  uk: 'проф акад доц вул пров пл ім див стор рис табл гл напр',
  bg: 'проф акад доц ул гр',
  el: 'κ κα κκ δρ καθ π.χ',
  ar: 'د أ',
  hi: 'डॉ प्रो श्री सं पृ',
  mr: 'डॉ प्रो श्री',
  ne: 'डॉ प्रो श्री',
};

/**
 * Abbreviations that may end a sentence ("… and so on, etc."): the split after them is undone only when
 * the next sentence would start with a lowercase letter or a digit ("etc. and", "No. 5", "Jan. 5.").
 */
export const ENDINGS: Readonly<Record<string, string>> = {
  en: 'etc approx ca al inc ltd co corp llc jr sr bros dept univ est no nos fig figs eq eqs vol vols ch chap sec pp ed eds ' +
    'jan feb mar apr jun jul aug sep sept oct nov dec',
  fr: 'etc env cie ex nº',
  de: 'bzw usw ca evtl ggf inkl str jh jhd abs bd',
  nl: 'enz bijv ca nr',
  es: 'etc aprox núm pág cía',
  pt: 'etc aprox pág cia',
  it: 'ecc ca pag',
  pl: 'np tzn itd itp ok godz ul nr str',
  ru: 'гг вв др пр руб коп тыс млн млрд мин сек',
  uk: 'рр ст тис млн млрд грн коп хв',
};

/**
 * Words after which "N." is an ordinal number, not a sentence end: German writes "am 3. Januar",
 * "im 19. Jahrhundert", and the capital that follows makes ICU split. (Languages whose months are
 * lowercase, like Danish "3. januar", need no list: a lowercase word already continues the sentence.)
 */
export const ORDINAL_NOUNS: Readonly<Record<string, string>> = {
  de: 'januar jänner februar märz april mai juni juli august september oktober november dezember jahrhundert jahrtausend weltkrieg',
};

/** The words of `table[code]` as a set (empty for a language without a list). */
export function wordSet(table: Readonly<Record<string, string>>, code: string): ReadonlySet<string> {
  return new Set((table[code] ?? '').split(' ').filter(Boolean));
}
