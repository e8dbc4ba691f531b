/**
 * The 202 text languages of SONAR (and NLLB-200), by FLORES-200 code.
 *
 * Source of the code list and its order: `FAIRSEQ_LANGUAGE_CODES` in Hugging Face transformers,
 * src/transformers/models/nllb/tokenization_nllb.py (the NLLB-200 tokenizer, whose language tags
 * SONAR's text encoder and decoder share). The order is the order of the `__xxx_Xxxx__` tags in that
 * vocabulary, not alphabetical; keep it. English names follow the FLORES-200 README; `sat_Beng`,
 * not FLORES' later `sat_Olck`, is what the NLLB/SONAR vocabulary has.
 *
 * Pure data and functions: imported by the renderer too, so no Node imports here.
 */

/** One SONAR language. */
export interface LanguageInfo {
  /** FLORES-200 code: ISO 639-3 language, underscore, ISO 15924 script (e.g. `eng_Latn`). */
  readonly code: string;
  /** English name, as in the FLORES-200 list. */
  readonly name: string;
  /** ISO 15924 script code, the part after the underscore (e.g. `Latn`). */
  readonly script: string;
  /** The ISO 639-1 code that resolves to this language, where one exists. */
  readonly iso6391?: string;
  /** Written right to left (Arabic and Hebrew scripts). */
  readonly rtl: boolean;
}

/** English names of the ISO 15924 scripts used by the 202 languages. */
export const SCRIPT_NAMES: Readonly<Record<string, string>> = {
  Arab: 'Arabic', Armn: 'Armenian', Beng: 'Bengali', Cyrl: 'Cyrillic', Deva: 'Devanagari', Ethi: 'Ethiopic',
  Geor: 'Georgian', Grek: 'Greek', Gujr: 'Gujarati', Guru: 'Gurmukhi', Hang: 'Hangul', Hans: 'Han (Simplified)',
  Hant: 'Han (Traditional)', Hebr: 'Hebrew', Jpan: 'Japanese', Khmr: 'Khmer', Knda: 'Kannada', Laoo: 'Lao',
  Latn: 'Latin', Mlym: 'Malayalam', Mymr: 'Myanmar', Orya: 'Odia', Sinh: 'Sinhala', Taml: 'Tamil', Telu: 'Telugu',
  Tfng: 'Tifinagh', Thai: 'Thai', Tibt: 'Tibetan',
};

const RTL_SCRIPTS = new Set(['Arab', 'Hebr']);

// code, English name, ISO 639-1 alias ('' when none). For macrolanguages the alias points at the variety
// NLLB uses for it (ar → arb, fa → pes, ms → zsm, zh → zho_Hans, …).
const TABLE: readonly (readonly [string, string, string])[] = [
  ['ace_Arab', 'Acehnese (Arabic script)', ''], ['ace_Latn', 'Acehnese (Latin script)', ''],
  ['acm_Arab', 'Mesopotamian Arabic', ''], ['acq_Arab', "Ta'izzi-Adeni Arabic", ''], ['aeb_Arab', 'Tunisian Arabic', ''],
  ['afr_Latn', 'Afrikaans', 'af'], ['ajp_Arab', 'South Levantine Arabic', ''], ['aka_Latn', 'Akan', 'ak'],
  ['amh_Ethi', 'Amharic', 'am'], ['apc_Arab', 'North Levantine Arabic', ''], ['arb_Arab', 'Modern Standard Arabic', 'ar'],
  ['ars_Arab', 'Najdi Arabic', ''], ['ary_Arab', 'Moroccan Arabic', ''], ['arz_Arab', 'Egyptian Arabic', ''],
  ['asm_Beng', 'Assamese', 'as'], ['ast_Latn', 'Asturian', ''], ['awa_Deva', 'Awadhi', ''], ['ayr_Latn', 'Central Aymara', 'ay'],
  ['azb_Arab', 'South Azerbaijani', ''], ['azj_Latn', 'North Azerbaijani', 'az'], ['bak_Cyrl', 'Bashkir', 'ba'],
  ['bam_Latn', 'Bambara', 'bm'], ['ban_Latn', 'Balinese', ''], ['bel_Cyrl', 'Belarusian', 'be'], ['bem_Latn', 'Bemba', ''],
  ['ben_Beng', 'Bengali', 'bn'], ['bho_Deva', 'Bhojpuri', ''], ['bjn_Arab', 'Banjar (Arabic script)', ''],
  ['bjn_Latn', 'Banjar (Latin script)', ''], ['bod_Tibt', 'Standard Tibetan', 'bo'], ['bos_Latn', 'Bosnian', 'bs'],
  ['bug_Latn', 'Buginese', ''], ['bul_Cyrl', 'Bulgarian', 'bg'], ['cat_Latn', 'Catalan', 'ca'], ['ceb_Latn', 'Cebuano', ''],
  ['ces_Latn', 'Czech', 'cs'], ['cjk_Latn', 'Chokwe', ''], ['ckb_Arab', 'Central Kurdish', ''], ['crh_Latn', 'Crimean Tatar', ''],
  ['cym_Latn', 'Welsh', 'cy'], ['dan_Latn', 'Danish', 'da'], ['deu_Latn', 'German', 'de'], ['dik_Latn', 'Southwestern Dinka', ''],
  ['dyu_Latn', 'Dyula', ''], ['dzo_Tibt', 'Dzongkha', 'dz'], ['ell_Grek', 'Greek', 'el'], ['eng_Latn', 'English', 'en'],
  ['epo_Latn', 'Esperanto', 'eo'], ['est_Latn', 'Estonian', 'et'], ['eus_Latn', 'Basque', 'eu'], ['ewe_Latn', 'Ewe', 'ee'],
  ['fao_Latn', 'Faroese', 'fo'], ['pes_Arab', 'Western Persian', 'fa'], ['fij_Latn', 'Fijian', 'fj'], ['fin_Latn', 'Finnish', 'fi'],
  ['fon_Latn', 'Fon', ''], ['fra_Latn', 'French', 'fr'], ['fur_Latn', 'Friulian', ''], ['fuv_Latn', 'Nigerian Fulfulde', 'ff'],
  ['gla_Latn', 'Scottish Gaelic', 'gd'], ['gle_Latn', 'Irish', 'ga'], ['glg_Latn', 'Galician', 'gl'], ['grn_Latn', 'Guarani', 'gn'],
  ['guj_Gujr', 'Gujarati', 'gu'], ['hat_Latn', 'Haitian Creole', 'ht'], ['hau_Latn', 'Hausa', 'ha'], ['heb_Hebr', 'Hebrew', 'he'],
  ['hin_Deva', 'Hindi', 'hi'], ['hne_Deva', 'Chhattisgarhi', ''], ['hrv_Latn', 'Croatian', 'hr'], ['hun_Latn', 'Hungarian', 'hu'],
  ['hye_Armn', 'Armenian', 'hy'], ['ibo_Latn', 'Igbo', 'ig'], ['ilo_Latn', 'Ilocano', ''], ['ind_Latn', 'Indonesian', 'id'],
  ['isl_Latn', 'Icelandic', 'is'], ['ita_Latn', 'Italian', 'it'], ['jav_Latn', 'Javanese', 'jv'], ['jpn_Jpan', 'Japanese', 'ja'],
  ['kab_Latn', 'Kabyle', ''], ['kac_Latn', 'Jingpho', ''], ['kam_Latn', 'Kamba', ''], ['kan_Knda', 'Kannada', 'kn'],
  ['kas_Arab', 'Kashmiri (Arabic script)', 'ks'], ['kas_Deva', 'Kashmiri (Devanagari script)', ''], ['kat_Geor', 'Georgian', 'ka'],
  ['knc_Arab', 'Central Kanuri (Arabic script)', ''], ['knc_Latn', 'Central Kanuri (Latin script)', 'kr'], ['kaz_Cyrl', 'Kazakh', 'kk'],
  ['kbp_Latn', 'Kabiyè', ''], ['kea_Latn', 'Kabuverdianu', ''], ['khm_Khmr', 'Khmer', 'km'], ['kik_Latn', 'Kikuyu', 'ki'],
  ['kin_Latn', 'Kinyarwanda', 'rw'], ['kir_Cyrl', 'Kyrgyz', 'ky'], ['kmb_Latn', 'Kimbundu', ''], ['kon_Latn', 'Kikongo', 'kg'],
  ['kor_Hang', 'Korean', 'ko'], ['kmr_Latn', 'Northern Kurdish', 'ku'], ['lao_Laoo', 'Lao', 'lo'], ['lvs_Latn', 'Standard Latvian', 'lv'],
  ['lij_Latn', 'Ligurian', ''], ['lim_Latn', 'Limburgish', 'li'], ['lin_Latn', 'Lingala', 'ln'], ['lit_Latn', 'Lithuanian', 'lt'],
  ['lmo_Latn', 'Lombard', ''], ['ltg_Latn', 'Latgalian', ''], ['ltz_Latn', 'Luxembourgish', 'lb'], ['lua_Latn', 'Luba-Kasai', ''],
  ['lug_Latn', 'Ganda', 'lg'], ['luo_Latn', 'Luo', ''], ['lus_Latn', 'Mizo', ''], ['mag_Deva', 'Magahi', ''], ['mai_Deva', 'Maithili', ''],
  ['mal_Mlym', 'Malayalam', 'ml'], ['mar_Deva', 'Marathi', 'mr'], ['min_Latn', 'Minangkabau (Latin script)', ''],
  ['mkd_Cyrl', 'Macedonian', 'mk'], ['plt_Latn', 'Plateau Malagasy', 'mg'], ['mlt_Latn', 'Maltese', 'mt'],
  ['mni_Beng', 'Meitei (Bengali script)', ''], ['khk_Cyrl', 'Halh Mongolian', 'mn'], ['mos_Latn', 'Mossi', ''], ['mri_Latn', 'Maori', 'mi'],
  ['zsm_Latn', 'Standard Malay', 'ms'], ['mya_Mymr', 'Burmese', 'my'], ['nld_Latn', 'Dutch', 'nl'], ['nno_Latn', 'Norwegian Nynorsk', 'nn'],
  ['nob_Latn', 'Norwegian Bokmål', 'nb'], ['npi_Deva', 'Nepali', 'ne'], ['nso_Latn', 'Northern Sotho', ''], ['nus_Latn', 'Nuer', ''],
  ['nya_Latn', 'Nyanja', 'ny'], ['oci_Latn', 'Occitan', 'oc'], ['gaz_Latn', 'West Central Oromo', 'om'], ['ory_Orya', 'Odia', 'or'],
  ['pag_Latn', 'Pangasinan', ''], ['pan_Guru', 'Eastern Panjabi', 'pa'], ['pap_Latn', 'Papiamento', ''], ['pol_Latn', 'Polish', 'pl'],
  ['por_Latn', 'Portuguese', 'pt'], ['prs_Arab', 'Dari', ''], ['pbt_Arab', 'Southern Pashto', 'ps'], ['quy_Latn', 'Ayacucho Quechua', 'qu'],
  ['ron_Latn', 'Romanian', 'ro'], ['run_Latn', 'Rundi', 'rn'], ['rus_Cyrl', 'Russian', 'ru'], ['sag_Latn', 'Sango', 'sg'],
  ['san_Deva', 'Sanskrit', 'sa'], ['sat_Beng', 'Santali', ''], ['scn_Latn', 'Sicilian', ''], ['shn_Mymr', 'Shan', ''],
  ['sin_Sinh', 'Sinhala', 'si'], ['slk_Latn', 'Slovak', 'sk'], ['slv_Latn', 'Slovenian', 'sl'], ['smo_Latn', 'Samoan', 'sm'],
  ['sna_Latn', 'Shona', 'sn'], ['snd_Arab', 'Sindhi', 'sd'], ['som_Latn', 'Somali', 'so'], ['sot_Latn', 'Southern Sotho', 'st'],
  ['spa_Latn', 'Spanish', 'es'], ['als_Latn', 'Tosk Albanian', 'sq'], ['srd_Latn', 'Sardinian', 'sc'], ['srp_Cyrl', 'Serbian', 'sr'],
  ['ssw_Latn', 'Swati', 'ss'], ['sun_Latn', 'Sundanese', 'su'], ['swe_Latn', 'Swedish', 'sv'], ['swh_Latn', 'Swahili', 'sw'],
  ['szl_Latn', 'Silesian', ''], ['tam_Taml', 'Tamil', 'ta'], ['tat_Cyrl', 'Tatar', 'tt'], ['tel_Telu', 'Telugu', 'te'],
  ['tgk_Cyrl', 'Tajik', 'tg'], ['tgl_Latn', 'Tagalog', 'tl'], ['tha_Thai', 'Thai', 'th'], ['tir_Ethi', 'Tigrinya', 'ti'],
  ['taq_Latn', 'Tamasheq (Latin script)', ''], ['taq_Tfng', 'Tamasheq (Tifinagh script)', ''], ['tpi_Latn', 'Tok Pisin', ''],
  ['tsn_Latn', 'Tswana', 'tn'], ['tso_Latn', 'Tsonga', 'ts'], ['tuk_Latn', 'Turkmen', 'tk'], ['tum_Latn', 'Tumbuka', ''],
  ['tur_Latn', 'Turkish', 'tr'], ['twi_Latn', 'Twi', 'tw'], ['tzm_Tfng', 'Central Atlas Tamazight', ''], ['uig_Arab', 'Uyghur', 'ug'],
  ['ukr_Cyrl', 'Ukrainian', 'uk'], ['umb_Latn', 'Umbundu', ''], ['urd_Arab', 'Urdu', 'ur'], ['uzn_Latn', 'Northern Uzbek', 'uz'],
  ['vec_Latn', 'Venetian', ''], ['vie_Latn', 'Vietnamese', 'vi'], ['war_Latn', 'Waray', ''], ['wol_Latn', 'Wolof', 'wo'],
  ['xho_Latn', 'Xhosa', 'xh'], ['ydd_Hebr', 'Eastern Yiddish', 'yi'], ['yor_Latn', 'Yoruba', 'yo'], ['yue_Hant', 'Yue Chinese', ''],
  ['zho_Hans', 'Chinese (Simplified)', 'zh'], ['zho_Hant', 'Chinese (Traditional)', ''], ['zul_Latn', 'Zulu', 'zu'],
];

/** All 202 SONAR text languages, in the order of their tags in the NLLB/SONAR vocabulary. */
export const SONAR_LANGUAGES: readonly LanguageInfo[] = Object.freeze(
  TABLE.map(([code, name, iso]): LanguageInfo => {
    const script = code.slice(4);
    return Object.freeze({ code, name, script, ...(iso ? { iso6391: iso } : {}), rtl: RTL_SCRIPTS.has(script) });
  }),
);

/** Deprecated or macrolanguage ISO 639-1 codes accepted as well (`no` is Norwegian; `iw` is the old code for Hebrew). */
const EXTRA_ALIASES: Readonly<Record<string, string>> = { no: 'nob_Latn', iw: 'heb_Hebr', ji: 'ydd_Hebr', in: 'ind_Latn' };

const BY_CODE = new Map(SONAR_LANGUAGES.map((l) => [l.code, l]));
const BY_ALIAS = new Map<string, LanguageInfo>([
  ...SONAR_LANGUAGES.flatMap((l): [string, LanguageInfo][] => (l.iso6391 ? [[l.iso6391, l]] : [])),
  ...Object.entries(EXTRA_ALIASES).map(([alias, code]): [string, LanguageInfo] => [alias, BY_CODE.get(code)!]),
]);

/** True if `code` is exactly one of the 202 FLORES-200 codes (case-sensitive, e.g. `eng_Latn`). */
export function isSonarLanguage(code: string): boolean {
  return BY_CODE.has(code);
}

/** The language with this exact FLORES-200 code, or undefined. */
export function getLanguage(code: string): LanguageInfo | undefined {
  return BY_CODE.get(code);
}

/**
 * Resolves a FLORES-200 code (exact) or an ISO 639-1 alias (any case, e.g. `en`, `ZH`) to its language.
 * Throws a RangeError naming the input and suggesting close codes when it is neither.
 */
export function resolveLanguage(input: string): LanguageInfo {
  if (typeof input !== 'string') throw new TypeError(`Language must be a string such as "eng_Latn" or "en", got ${typeof input}.`);
  const trimmed = input.trim();
  const found = BY_CODE.get(trimmed) ?? BY_ALIAS.get(trimmed.toLowerCase());
  if (found) return found;
  const close = suggestLanguages(trimmed);
  const hint = close.length > 0 ? ` Did you mean ${close.map((l) => `${l.code} (${l.name})`).join(', ')}?` : '';
  throw new RangeError(
    `Unknown language code "${input}": use one of the 202 FLORES-200 codes (language_Script, e.g. eng_Latn, zho_Hans) or an ISO 639-1 code such as "en".${hint}`,
  );
}

/** Up to `limit` codes close to an unknown input: same language part, alias of its first part, case fix, name, small edit distance. */
export function suggestLanguages(input: string, limit = 5): LanguageInfo[] {
  const lower = input.trim().toLowerCase().replace(/-/g, '_');
  if (lower === '') return [];
  const [head = '', tail = ''] = lower.split('_');
  const picks: LanguageInfo[] = [];
  const add = (l: LanguageInfo | undefined): void => {
    if (l && !picks.includes(l)) picks.push(l);
  };
  for (const l of SONAR_LANGUAGES) if (l.code.toLowerCase() === lower) add(l);
  // "eng" → eng_Latn; "kas" → both Kashmiri scripts; "eng_Cyrl" → eng_Latn.
  for (const l of SONAR_LANGUAGES) if (l.code.slice(0, 3) === head) add(l);
  // "fr_Latn" → fra_Latn (an ISO 639-1 code with a script); "zh_Hant" → zho_Hant before zho_Hans.
  const aliased = BY_ALIAS.get(head);
  if (aliased) {
    const lang = aliased.code.slice(0, 3);
    const sameLang = SONAR_LANGUAGES.filter((l) => l.code.startsWith(`${lang}_`));
    sameLang.sort((a, b) => Number(b.script.toLowerCase() === tail) - Number(a.script.toLowerCase() === tail));
    sameLang.forEach(add);
  }
  // Only when the code-shaped guesses found nothing: an English name ("German") or a typo ("engg_Latn").
  if (picks.length === 0) for (const l of searchLanguages(input).slice(0, 3)) add(l);
  if (picks.length === 0) {
    const scored = SONAR_LANGUAGES.map((l) => ({ l, d: editDistance(lower, l.code.toLowerCase()) }))
      .filter((x) => x.d <= 2)
      .sort((a, b) => a.d - b.d);
    for (const { l } of scored) add(l);
  }
  return picks.slice(0, limit);
}

/**
 * Languages matching `query` by code, ISO 639-1 alias or English name (case- and accent-insensitive),
 * best first: exact code or alias, then names starting with the query, then any word of the name
 * starting with it, then substring matches. An empty query returns all 202 in table order.
 */
export function searchLanguages(query: string): LanguageInfo[] {
  const q = fold(query.trim());
  if (q === '') return [...SONAR_LANGUAGES];
  const rank = (l: LanguageInfo): number => {
    const name = fold(l.name);
    const code = l.code.toLowerCase();
    if (code === q || l.iso6391 === q) return 0;
    if (name === q) return 1;
    if (name.startsWith(q) || code.startsWith(q)) return 2;
    if (name.split(/[\s(),-]+/).some((w) => w.startsWith(q))) return 3;
    if (name.includes(q) || code.includes(q)) return 4;
    return -1;
  };
  return SONAR_LANGUAGES.map((l) => ({ l, r: rank(l) }))
    .filter((x) => x.r >= 0)
    .sort((a, b) => a.r - b.r)
    .map((x) => x.l);
}

function fold(s: string): string {
  return s.normalize('NFD').replace(/\p{M}/gu, '').toLowerCase();
}

function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      cur[j] = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    prev = cur;
  }
  return prev[b.length]!;
}
