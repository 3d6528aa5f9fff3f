import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatValue, sprintf } from './index.ts';

const sprintfCases: Array<[string, unknown[], string]> = [
  ['%d', [42n], '42'],
  ['%5d|%-5d|%05d|%+d|% d', [42n, 42n, -42n, 42n, 42n], '   42|42   |-0042|+42| 42'],
  ['%x|%X|%#x|%o|%#o|%b', [255n, 255n, 255n, 8n, 8n, 5n], 'ff|FF|0xff|10|010|101'],
  ['%s|%q|%v', ['a', 'b"c', 'd'], 'a|"b\\"c"|d'],
  ['%.2s|%5.1q|%-4s|', ['trunc', 'abc', 'x'], 'tr|  "a"|x   |'],
  [
    '%f|%.2f|%e|%E|%g',
    [1.23456, 2.5, 1234.5678, 0.00012, 1e21],
    '1.234560|2.50|1.234568e+03|1.200000E-04|1e+21',
  ],
  ['%.0f|%.0f|%.0f|%.2f|%.2f', [0.5, 1.5, 2.5, 1.005, 0.125], '0|2|2|1.00|0.12'],
  ['%v|%v|%v|%v|%v', [0.1, 100000, 1000000, 1e-5, 123456789], '0.1|100000|1e+06|1e-05|1.23456789e+08'],
  ['%t|%v|%T|%T|%T', [true, false, 1n, 1.5, 'x'], 'true|false|int|float64|string'],
  ['%v|%v', [{ b: 2n, a: [1n, 'x'] }, [null, 'y']], 'map[a:[1 x] b:2]|[<nil> y]'],
  ['%+v', [[{ a: 1n }]], '[map[a:1]]'],
  ['%d', [1.5], '%!d(float64=1.5)'],
  ['%s', [3n], '%!s(int=3)'],
  ['%s', [null], '%!s(<nil>)'],
  ['%d', [], '%!d(MISSING)'],
  ['%d', [1n, 2n, 'x'], '1%!(EXTRA int=2, string=x)'],
  ['%!', [], '%!!(MISSING)'],
  ['%', [], '%!(NOVERB)'],
  ['%z', [3n], '%!z(int=3)'],
  ['100%%', [], '100%'],
  ['%[2]d %[1]d', [1n, 2n], '2 1'],
  ['%*d|%.*f', [5n, 42n, 2n, Math.PI], '   42|3.14'],
  ['%c|%U|%q', [65n, 0x1f600n, 120n], "A|U+1F600|'x'"],
  ['%x', ['hi'], '6869'],
  ['%s', [new Uint8Array([104, 105])], 'hi'],
  ['%v', [new Uint8Array([1, 2])], '[1 2]'],
  ['%s', [{ a: 1n }], 'map[a:%!s(int=1)]'],
  ['%6.2f|%06.2f|%+.2f', [Math.PI, -Math.PI, 2], '  3.14|-03.14|+2.00'],
  ['%v %v %v', [Number.NaN, Number.POSITIVE_INFINITY, -0], 'NaN +Inf -0'],
];

for (const [format, args, want] of sprintfCases) {
  test(`sprintf() formats ${JSON.stringify(format)}`, () => {
    assert.equal(sprintf(format, ...args), want);
  });
}

const valueCases: Array<[unknown, string]> = [
  [null, '<nil>'],
  [undefined, '<nil>'],
  ['s', 's'],
  [3n, '3'],
  [3, '3'],
  [1.5, '1.5'],
  [1e21, '1e+21'],
  [true, 'true'],
  [[], '[]'],
  [{}, 'map[]'],
  [
    new Map([
      ['b', 1],
      ['a', 2],
    ]),
    'map[a:2 b:1]',
  ],
  [{ z: { y: [1, 2] } }, 'map[z:map[y:[1 2]]]'],
  [
    new (class V {
      String() {
        return 'v1.2.3';
      }
    })(),
    'v1.2.3',
  ],
  [new Date(Date.UTC(2024, 0, 2, 3, 4, 5)), '2024-01-02 03:04:05 +0000 UTC'],
];

for (const [value, want] of valueCases) {
  test(`formatValue() prints ${want}`, () => {
    assert.equal(formatValue(value), want);
  });
}
