import { describe, expect, it } from 'vitest';
import { SONAR_LANGUAGES, SCRIPT_NAMES, getLanguage, isSonarLanguage, resolveLanguage, searchLanguages, suggestLanguages } from '../../src/shared/languages.ts';

// FAIRSEQ_LANGUAGE_CODES from Hugging Face transformers, src/transformers/models/nllb/tokenization_nllb.py
// (copied verbatim): the table must hold exactly these codes, in this order (the tag order of the vocabulary).
const NLLB_CODES = `ace_Arab ace_Latn acm_Arab acq_Arab aeb_Arab afr_Latn ajp_Arab aka_Latn amh_Ethi apc_Arab arb_Arab ars_Arab
ary_Arab arz_Arab asm_Beng ast_Latn awa_Deva ayr_Latn azb_Arab azj_Latn bak_Cyrl bam_Latn ban_Latn bel_Cyrl bem_Latn ben_Beng
bho_Deva bjn_Arab bjn_Latn bod_Tibt bos_Latn bug_Latn bul_Cyrl cat_Latn ceb_Latn ces_Latn cjk_Latn ckb_Arab crh_Latn cym_Latn
dan_Latn deu_Latn dik_Latn dyu_Latn dzo_Tibt ell_Grek eng_Latn epo_Latn est_Latn eus_Latn ewe_Latn fao_Latn pes_Arab fij_Latn
fin_Latn fon_Latn fra_Latn fur_Latn fuv_Latn gla_Latn gle_Latn glg_Latn grn_Latn guj_Gujr hat_Latn hau_Latn heb_Hebr hin_Deva
hne_Deva hrv_Latn hun_Latn hye_Armn ibo_Latn ilo_Latn ind_Latn isl_Latn ita_Latn jav_Latn jpn_Jpan kab_Latn kac_Latn kam_Latn
kan_Knda kas_Arab kas_Deva kat_Geor knc_Arab knc_Latn kaz_Cyrl kbp_Latn kea_Latn khm_Khmr kik_Latn kin_Latn kir_Cyrl kmb_Latn
kon_Latn kor_Hang kmr_Latn lao_Laoo lvs_Latn lij_Latn lim_Latn lin_Latn lit_Latn lmo_Latn ltg_Latn ltz_Latn lua_Latn lug_Latn
luo_Latn lus_Latn mag_Deva mai_Deva mal_Mlym mar_Deva min_Latn mkd_Cyrl plt_Latn mlt_Latn mni_Beng khk_Cyrl mos_Latn mri_Latn
zsm_Latn mya_Mymr nld_Latn nno_Latn nob_Latn npi_Deva nso_Latn nus_Latn nya_Latn oci_Latn gaz_Latn ory_Orya pag_Latn pan_Guru
pap_Latn pol_Latn por_Latn prs_Arab pbt_Arab quy_Latn ron_Latn run_Latn rus_Cyrl sag_Latn san_Deva sat_Beng scn_Latn shn_Mymr
sin_Sinh slk_Latn slv_Latn smo_Latn sna_Latn snd_Arab som_Latn sot_Latn spa_Latn als_Latn srd_Latn srp_Cyrl ssw_Latn sun_Latn
swe_Latn swh_Latn szl_Latn tam_Taml tat_Cyrl tel_Telu tgk_Cyrl tgl_Latn tha_Thai tir_Ethi taq_Latn taq_Tfng tpi_Latn tsn_Latn
tso_Latn tuk_Latn tum_Latn tur_Latn twi_Latn tzm_Tfng uig_Arab ukr_Cyrl umb_Latn urd_Arab uzn_Latn vec_Latn vie_Latn war_Latn
wol_Latn xho_Latn ydd_Hebr yor_Latn yue_Hant zho_Hans zho_Hant zul_Latn`.split(/\s+/);

describe('SONAR_LANGUAGES', () => {
  it('is exactly the 202 NLLB-200 codes, in vocabulary tag order', () => {
    expect(NLLB_CODES).toHaveLength(202);
    expect(SONAR_LANGUAGES).toHaveLength(202);
    expect(SONAR_LANGUAGES.map((l) => l.code)).toEqual(NLLB_CODES);
  });

  it('has unique, well-formed codes with a name and a known script', () => {
    expect(new Set(SONAR_LANGUAGES.map((l) => l.code)).size).toBe(202);
    for (const l of SONAR_LANGUAGES) {
      expect(l.code).toMatch(/^[a-z]{3}_[A-Z][a-z]{3}$/);
      expect(l.script).toBe(l.code.slice(4));
      expect(SCRIPT_NAMES[l.script], l.code).toBeDefined();
      expect(l.name.length, l.code).toBeGreaterThan(1);
    }
  });

  it('has unique two-letter aliases', () => {
    const aliases = SONAR_LANGUAGES.flatMap((l) => (l.iso6391 ? [l.iso6391] : []));
    expect(new Set(aliases).size).toBe(aliases.length);
    for (const a of aliases) expect(a).toMatch(/^[a-z]{2}$/);
  });

  it('marks exactly the Arabic- and Hebrew-script languages right to left', () => {
    const rtl = SONAR_LANGUAGES.filter((l) => l.rtl).map((l) => l.code);
    expect(rtl).toContain('arb_Arab');
    expect(rtl).toContain('heb_Hebr');
    expect(rtl).toContain('ydd_Hebr');
    expect(rtl).toContain('urd_Arab');
    expect(rtl.every((c) => c.endsWith('_Arab') || c.endsWith('_Hebr'))).toBe(true);
    expect(rtl).toHaveLength(SONAR_LANGUAGES.filter((l) => l.script === 'Arab' || l.script === 'Hebr').length);
    expect(getLanguage('eng_Latn')?.rtl).toBe(false);
    expect(getLanguage('ace_Latn')?.rtl).toBe(false);
  });
});

describe('isSonarLanguage / getLanguage', () => {
  it('accepts exact codes only', () => {
    expect(isSonarLanguage('eng_Latn')).toBe(true);
    expect(isSonarLanguage('zho_Hant')).toBe(true);
    expect(isSonarLanguage('eng_latn')).toBe(false);
    expect(isSonarLanguage('en')).toBe(false);
    expect(isSonarLanguage('sat_Olck')).toBe(false);
    expect(getLanguage('jpn_Jpan')).toMatchObject({ name: 'Japanese', script: 'Jpan', iso6391: 'ja', rtl: false });
    expect(getLanguage('xxx_Latn')).toBeUndefined();
  });
});

describe('resolveLanguage', () => {
  it('resolves FLORES codes and ISO 639-1 aliases (alias in any case)', () => {
    expect(resolveLanguage('fra_Latn').code).toBe('fra_Latn');
    const cases: [string, string][] = [['en', 'eng_Latn'], ['EN', 'eng_Latn'], ['zh', 'zho_Hans'], ['ar', 'arb_Arab'], ['fa', 'pes_Arab'],
      ['ms', 'zsm_Latn'], ['no', 'nob_Latn'], ['he', 'heb_Hebr'], ['Ja', 'jpn_Jpan'], ['sq', 'als_Latn'], [' de ', 'deu_Latn']];
    for (const [alias, code] of cases) expect(resolveLanguage(alias).code, alias).toBe(code);
  });

  it('throws a RangeError naming the input and suggesting close codes', () => {
    const message = (input: string): string => {
      try {
        resolveLanguage(input);
      } catch (error) {
        expect(error).toBeInstanceOf(RangeError);
        return (error as Error).message;
      }
      throw new Error(`resolveLanguage("${input}") did not throw`);
    };
    expect(message('eng')).toMatch(/Unknown language code "eng".*Did you mean eng_Latn \(English\)/);
    expect(message('fr_Latn')).toMatch(/Did you mean fra_Latn \(French\)/);
    expect(message('eng_latn')).toMatch(/Did you mean eng_Latn/);
    expect(message('zh_Hant')).toMatch(/Did you mean zho_Hant .*zho_Hans/);
    expect(message('German')).toMatch(/Did you mean deu_Latn/);
    expect(message('engg_Latn')).toMatch(/Did you mean eng_Latn/);
    expect(message('sat_Olck')).toMatch(/Did you mean sat_Beng/);
    expect(message('qq')).not.toMatch(/Did you mean/);
  });

  it('suggests both scripts for a language written in two', () => {
    expect(suggestLanguages('kas').map((l) => l.code)).toEqual(['kas_Arab', 'kas_Deva']);
    expect(suggestLanguages('eng').map((l) => l.code)).toEqual(['eng_Latn']);
  });
});

describe('searchLanguages', () => {
  it('finds by name, code or alias, best match first, ignoring case and accents', () => {
    expect(searchLanguages('french')[0]?.code).toBe('fra_Latn');
    expect(searchLanguages('fr')[0]?.code).toBe('fra_Latn');
    expect(searchLanguages('zho_Hant').map((l) => l.code)).toEqual(['zho_Hant']);
    expect(searchLanguages('bokmal').map((l) => l.code)).toEqual(['nob_Latn']);
    expect(searchLanguages('chinese').map((l) => l.code)).toEqual(['zho_Hans', 'zho_Hant', 'yue_Hant']);
    expect(searchLanguages('Arabic').map((l) => l.code)).toContain('arz_Arab');
    expect(searchLanguages('no such language')).toEqual([]);
    expect(searchLanguages('')).toHaveLength(202);
  });
});
