import { describe, expect, it } from 'vitest';
import { DEFAULT_MAX_CHARS, segmentText, type Segment, type SegmentOptions } from '../../src/inference/text/segmenter.ts';

/** Checks the invariants every result must keep, then returns the texts. */
function check(input: string, segments: Segment[], maxChars = DEFAULT_MAX_CHARS): string[] {
  let rebuilt = '';
  let at = 0;
  for (const s of segments) {
    expect(s.text.length).toBeGreaterThan(0);
    expect(s.text.length).toBeLessThanOrEqual(maxChars);
    expect(s.text).toBe(input.slice(s.start, s.end));
    expect(s.text).toBe(s.text.trim());
    expect(s.start).toBeGreaterThanOrEqual(at);
    const gap = input.slice(at, s.start);
    expect(gap.trim()).toBe(''); // only whitespace between segments
    rebuilt += gap + s.text;
    at = s.end;
  }
  expect(input.slice(at).trim()).toBe('');
  expect(rebuilt + input.slice(at)).toBe(input);
  return segments.map((s) => s.text);
}

function split(input: string, options: SegmentOptions = {}): string[] {
  return check(input, segmentText(input, options), options.maxChars ?? DEFAULT_MAX_CHARS);
}

describe('sentences in many scripts', () => {
  it('Latin: abbreviations, decimals, initials, ellipses', () => {
    expect(split('Dr. Smith went to Washington. He arrived on Jan. 5, e.g. at 3.14 p.m. in the U.S. economy. Then he left.')).toEqual([
      'Dr. Smith went to Washington.', 'He arrived on Jan. 5, e.g. at 3.14 p.m. in the U.S. economy.', 'Then he left.',
    ]);
    expect(split('J. R. R. Tolkien wrote books. It was fine... Really? Yes!')).toEqual(['J. R. R. Tolkien wrote books.', 'It was fine...', 'Really?', 'Yes!']);
    expect(split('Mr. and Mrs. Smith paid $3.50 for version 2.0.1 today. Numbers like 1. and 2. are listed.')).toEqual([
      'Mr. and Mrs. Smith paid $3.50 for version 2.0.1 today.', 'Numbers like 1. and 2. are listed.',
    ]);
  });

  it('Latin, other languages: French M., German Fr., Spanish ¿…?', () => {
    expect(split('Mme Dupont, M. Martin et Dr. Durand sont là. Cf. p. 12. Fin.', { lang: 'fra_Latn' })).toEqual([
      'Mme Dupont, M. Martin et Dr. Durand sont là.', 'Cf. p. 12.', 'Fin.',
    ]);
    expect(split('Dr. Müller kam um 5 Uhr, d.h. pünktlich. Fr. Meier nicht. Am 3. Januar kam er.', { lang: 'de' })).toEqual([
      'Dr. Müller kam um 5 Uhr, d.h. pünktlich.', 'Fr. Meier nicht.', 'Am 3. Januar kam er.',
    ]);
    expect(split('El Sr. García llegó. ¿Cómo estás? ¡Bien!', { lang: 'spa_Latn' })).toEqual(['El Sr. García llegó.', '¿Cómo estás?', '¡Bien!']);
  });

  it('Cyrillic: т.е., т.д., ч., см., проф. (ICU alone splits these)', () => {
    expect(split('Т.е. это так. Он пришёл в 5 ч. вечера. Т. е. всё хорошо. См. стр. 5. Проф. Иванов пришёл в 2020 г. Он был рад. И т.д. и т.п. Конец.', { lang: 'rus_Cyrl' })).toEqual([
      'Т.е. это так.', 'Он пришёл в 5 ч. вечера.', 'Т. е. всё хорошо.', 'См. стр. 5.', 'Проф. Иванов пришёл в 2020 г.', 'Он был рад.', 'И т.д. и т.п.', 'Конец.',
    ]);
    expect(split('Див. с. 5. Т.зв. реформа. І т.д. і т.п. Кінець.', { lang: 'uk' })).toEqual(['Див. с. 5.', 'Т.зв. реформа.', 'І т.д. і т.п.', 'Кінець.']);
  });

  it('Han: full stops with no spaces, quotes closing after the stop', () => {
    expect(split('我是学生。你呢？好的！他说：“你好。”然后走了。', { lang: 'zho_Hans' })).toEqual(['我是学生。', '你呢？', '好的！', '他说：“你好。”', '然后走了。']);
    expect(split('「你好。」他說。', { lang: 'zho_Hant' })).toEqual(['「你好。」', '他說。']);
  });

  it('Japanese: 。！？ and a quotation followed by と stays one sentence', () => {
    expect(split('日本語のテキストです。「こんにちは。」と言った。はい！本当？', { lang: 'jpn_Jpan' })).toEqual([
      '日本語のテキストです。', '「こんにちは。」と言った。', 'はい！', '本当？',
    ]);
  });

  it('Hangul', () => {
    expect(split('한국어 문장입니다. 두 번째 문장! 세 번째?', { lang: 'kor_Hang' })).toEqual(['한국어 문장입니다.', '두 번째 문장!', '세 번째?']);
  });

  it('Arabic script: ؟ . and the Urdu full stop ۔', () => {
    expect(split('مرحبا بالعالم؟ كيف حالك. قال د. أحمد: "مرحبا." ثم ذهب.', { lang: 'arb_Arab' })).toEqual([
      'مرحبا بالعالم؟', 'كيف حالك.', 'قال د. أحمد: "مرحبا."', 'ثم ذهب.',
    ]);
    expect(split('یہ ایک جملہ ہے۔ یہ دوسرا ہے۔', { lang: 'urd_Arab' })).toEqual(['یہ ایک جملہ ہے۔', 'یہ دوسرا ہے۔']);
    // A dialect without an ISO 639-1 code falls back to its script's rules.
    expect(split('مرحبا بالعالم؟ كيف حالك.', { lang: 'acm_Arab' })).toEqual(['مرحبا بالعالم؟', 'كيف حالك.']);
  });

  it('Devanagari: danda, double danda, and डॉ. (Dr.)', () => {
    expect(split('डॉ. शर्मा आए। नमस्ते दुनिया। यह दूसरा वाक्य है॥ तीसरा?', { lang: 'hin_Deva' })).toEqual([
      'डॉ. शर्मा आए।', 'नमस्ते दुनिया।', 'यह दूसरा वाक्य है॥', 'तीसरा?',
    ]);
  });

  it('Greek: ";" is the question mark', () => {
    expect(split('Τι κάνεις; Καλά είμαι. Ο κ. Παπαδόπουλος ήρθε. Εσύ;', { lang: 'ell_Grek' })).toEqual([
      'Τι κάνεις;', 'Καλά είμαι.', 'Ο κ. Παπαδόπουλος ήρθε.', 'Εσύ;',
    ]);
    // Elsewhere ";" only separates clauses.
    expect(split('One part; another part. Done.')).toEqual(['One part; another part.', 'Done.']);
  });

  it('Hebrew', () => {
    expect(split('שלום עולם. מה שלומך? הוא אמר: "שלום." ואז הלך.', { lang: 'heb_Hebr' })).toEqual(['שלום עולם.', 'מה שלומך?', 'הוא אמר: "שלום."', 'ואז הלך.']);
  });

  it('Khmer ។ and Tibetan ། (ICU does not split at །)', () => {
    expect(split('ខ្ញុំស្រឡាញ់ភាសាខ្មែរ។ នេះជាប្រយោគទីពីរ។', { lang: 'khm_Khmr' })).toEqual(['ខ្ញុំស្រឡាញ់ភាសាខ្មែរ។', 'នេះជាប្រយោគទីពីរ។']);
    expect(split('བཀྲ་ཤིས་བདེ་ལེགས། ཁྱེད་རང་སྐུ་གཟུགས་བདེ་པོ་ཡིན་པས། །', { lang: 'bod_Tibt' })).toEqual([
      'བཀྲ་ཤིས་བདེ་ལེགས།', 'ཁྱེད་རང་སྐུ་གཟུགས་བདེ་པོ་ཡིན་པས། །',
    ]);
  });

  it('Thai: no sentence punctuation, so only the cap splits, at spaces', () => {
    const thai = 'ภาษาไทยไม่มีจุด ประโยคที่สอง ประโยคที่สาม';
    expect(split(thai, { lang: 'tha_Thai' })).toEqual([thai]);
    expect(split(thai, { lang: 'tha_Thai', maxChars: 20 })).toEqual(['ภาษาไทยไม่มีจุด', 'ประโยคที่สอง', 'ประโยคที่สาม']);
  });
});

describe('rules on top of ICU', () => {
  it('abbreviations that end sentences only before a capital, titles that never do', () => {
    expect(split('He came on Jan. 5. Then left. Smith vs. Jones met in St. Louis. Acme Inc. announced it. He works at Acme Inc. The firm grew.')).toEqual([
      'He came on Jan. 5.', 'Then left.', 'Smith vs. Jones met in St. Louis.', 'Acme Inc. announced it.', 'He works at Acme Inc.', 'The firm grew.',
    ]);
    // Dotted capitals stay with the next word; dotted lowercase and numbers end a sentence before a capital.
    expect(split('The U.S. Army came at 5 a.m. The end came. See e.g. London. It cost $5.99. That is cheap.')).toEqual([
      'The U.S. Army came at 5 a.m.', 'The end came.', 'See e.g. London.', 'It cost $5.99.', 'That is cheap.',
    ]);
    expect(split('Η κα Παπαδοπούλου ήρθε. Ο Δρ. Γεωργίου επίσης. Τέλος.', { lang: 'el' })).toEqual([
      'Η κα Παπαδοπούλου ήρθε.', 'Ο Δρ. Γεωργίου επίσης.', 'Τέλος.',
    ]);
  });

  it('initials, spaced abbreviations and German ordinal dates', () => {
    expect(split('А. С. Пушкин родился в 1799 г. Он был поэтом.', { lang: 'ru' })).toEqual(['А. С. Пушкин родился в 1799 г.', 'Он был поэтом.']);
    expect(split('Am 3. Januar kam er. Der 2. Weltkrieg war schlimm. Es kam z. B. Peter. Es kam z.B. Paul. Er war 30. Dann ging er.', { lang: 'de' })).toEqual([
      'Am 3. Januar kam er.', 'Der 2. Weltkrieg war schlimm.', 'Es kam z. B. Peter.', 'Es kam z.B. Paul.', 'Er war 30.', 'Dann ging er.',
    ]);
  });

  it('opening quotes glued to the next sentence, lowercase after a quotation, a missing space', () => {
    expect(split('He left.“Hi,” she said. Next.')).toEqual(['He left.', '“Hi,” she said.', 'Next.']);
    expect(split('日本語。「引用」次の文。', { lang: 'ja' })).toEqual(['日本語。', '「引用」次の文。']);
    expect(split('"Why?" he asked. He said (quietly!) that it was so. Really? yes it is.')).toEqual([
      '"Why?" he asked.', 'He said (quietly!) that it was so.', 'Really?', 'yes it is.',
    ]);
    expect(split('Look here.The end. Mrs.Smith came. The Ph.D. is done.')).toEqual(['Look here.', 'The end.', 'Mrs.Smith came.', 'The Ph.D. is done.']);
  });
});

describe('quotes and brackets', () => {
  it('keeps closing quotes and brackets with the sentence they close', () => {
    expect(split('He said "Hi." Then he left. She asked (why?) and went. (They left.) Next one.')).toEqual([
      'He said "Hi."', 'Then he left.', 'She asked (why?) and went.', '(They left.)', 'Next one.',
    ]);
    expect(split('“Hello.” Then more. ‘Quoted.’ End')).toEqual(['“Hello.”', 'Then more.', '‘Quoted.’', 'End']);
    expect(split('Он сказал: «Привет!» Потом ушёл.', { lang: 'ru' })).toEqual(['Он сказал: «Привет!»', 'Потом ушёл.']);
    expect(split('Il a dit « Bonjour ! » puis il est parti.', { lang: 'fr' })).toEqual(['Il a dit « Bonjour ! » puis il est parti.']);
  });
});

describe('paragraphs and lines', () => {
  it('always splits at blank lines; a single break splits unless the next line starts in lowercase', () => {
    expect(split('Para one.\n\nPara two without stop\n\n\nPara three\nTitle line\ncontinued lower line. End')).toEqual([
      'Para one.', 'Para two without stop', 'Para three', 'Title line\ncontinued lower line.', 'End',
    ]);
    expect(split('Windows\r\nLine endings.\r\n\r\nNext para.\u2029Another')).toEqual(['Windows', 'Line endings.', 'Next para.', 'Another']);
    expect(split('A hard-wrapped\r\nsentence here.\rNext line.')).toEqual(['A hard-wrapped\r\nsentence here.', 'Next line.']);
    expect(split('  leading and trailing space.  \n\t ')).toEqual(['leading and trailing space.']);
  });

  it('gives [] for empty and whitespace-only input', () => {
    expect(segmentText('')).toEqual([]);
    expect(segmentText('   \n\n \t \u3000 \r\n')).toEqual([]);
  });

  it('joins punctuation-only pieces to the sentence before', () => {
    expect(split('Hello there. ... Next one.')).toEqual(['Hello there. ...', 'Next one.']);
    expect(split('Hello there. !!!')).toEqual(['Hello there. !!!']);
  });
});

describe('the character cap', () => {
  const long = 'A long sentence, with many clauses; it goes on and on: and on — and on, until the cap must split it somewhere sensible, preferably near the middle.';

  it('splits at clause marks, aiming at even pieces', () => {
    expect(long.length).toBe(147);
    expect(split(long)).toEqual([long]);
    expect(split(long, { maxChars: 100 })).toEqual([
      'A long sentence, with many clauses; it goes on and on: and on — and on,',
      'until the cap must split it somewhere sensible, preferably near the middle.',
    ]);
    for (const max of [10, 25, 40, 60, 80]) expect(split(long, { maxChars: max }).join(' '), String(max)).toBe(long);
  });

  it('uses CJK clause marks, then hard cuts where there is no space', () => {
    expect(split('这是一个很长的句子，没有句号，但是有逗号，还有顿号、分号；冒号：等等等等等等', { lang: 'zh', maxChars: 12 })).toEqual([
      '这是一个很长的句子，', '没有句号，但是有逗号，', '还有顿号、分号；', '冒号：等等等等等等',
    ]);
    const run = '我是学生'.repeat(20);
    expect(split(run, { lang: 'zh', maxChars: 30 })).toEqual([run.slice(0, 27), run.slice(27, 54), run.slice(54)]);
  });

  it('falls back to whitespace, and does not split "1,000" or "10:30"', () => {
    const text = 'We counted 1,000,000 birds at 10:30 and 11:45 near the lake shore today';
    const parts = split(text, { maxChars: 40 });
    // 71 units → two pieces aiming at 35.5: the space after "10:30" is closest.
    expect(parts).toEqual(['We counted 1,000,000 birds at 10:30', 'and 11:45 near the lake shore today']);
  });

  it('never cuts inside a surrogate pair, a combining sequence or an emoji ZWJ sequence', () => {
    const emoji = '👩‍💻'.repeat(30);
    const parts = split(emoji, { maxChars: 10 });
    expect(parts.every((p) => p.length % 5 === 0)).toBe(true); // 👩‍💻 is 5 UTF-16 units
    const accents = 'e\u0301'.repeat(50);
    expect(split(accents, { maxChars: 7 }).every((p) => p.length % 2 === 0)).toBe(true);
  });

  it('can be switched off, and rejects bad values', () => {
    const big = `${'word '.repeat(100)}end.`;
    expect(split(big, { maxChars: Infinity })).toEqual([big]);
    expect(() => segmentText('x', { maxChars: 0 })).toThrow(RangeError);
    expect(() => segmentText('x', { maxChars: 2.5 })).toThrow(/maxChars must be a positive integer or Infinity/);
  });
});

describe('options and scale', () => {
  it('takes FLORES codes and ISO 639-1 aliases, and names an unknown language', () => {
    const ru = 'Т.е. это так. Конец.';
    expect(split(ru, { lang: 'ru' })).toEqual(split(ru, { lang: 'rus_Cyrl' }));
    expect(() => segmentText('Hi.', { lang: 'xx_Latn' })).toThrow(RangeError);
    expect(() => segmentText('Hi.', { lang: 'eng' })).toThrow(/Did you mean eng_Latn/);
  });

  it('a 34 KB paragraph splits only between sentences', () => {
    const sentence = 'This is a sentence, with a comma.';
    const para = Array.from({ length: 1000 }, () => sentence).join(' ');
    const parts = split(para);
    expect(parts).toHaveLength(1000);
    expect(new Set(parts)).toEqual(new Set([sentence]));
  });

  it('handles 1 MB of mixed text without blowing up, keeping every invariant', () => {
    const mixed = [
      'Dr. Smith arrived at 3.14 p.m. in the U.S. economy.', 'Т.е. это так.', '我是学生。你呢？', '「こんにちは。」と言った。',
      'مرحبا بالعالم؟', 'नमस्ते दुनिया।', 'Τι κάνεις;', 'שלום עולם.', `${'a clause, '.repeat(40)}end.`,
    ].join(' ');
    let input = '';
    while (input.length < 700_000) input += `${mixed}\n\n`;
    input += '无标点的中文'.repeat(30_000); // 180k units of Han with no punctuation or space
    input += ` ${'x'.repeat(120_000)}`; // one 120k-unit "word"
    expect(input.length).toBeGreaterThan(1_000_000);
    const segments = segmentText(input, { lang: 'eng_Latn' });
    check(input, segments);
    expect(segments.length).toBeGreaterThan(10_000);
  });
});
