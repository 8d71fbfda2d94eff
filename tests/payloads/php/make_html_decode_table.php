<?php
// Run: php tests/payloads/php/make_html_decode_table.php > tests/payloads/php/html_entity_decode.json  (made with PHP 8.2.36 CLI, Debian php-cli)
//
// Records what PHP's html_entity_decode() does with its default flags, so that
// webhooks/php_html.py can be tested against PHP itself without PHP at test time.
// Output: {"php_version", "flags", "html401_entities": {name: character}, "rows": [[input, output], ...]},
// one row per line so that a regenerated file diffs readably. Deterministic (seeded sample).

if (PHP_VERSION_ID < 80100) {
    // Before 8.1 the default was ENT_COMPAT | ENT_HTML401, which leaves &#39; alone.
    fwrite(STDERR, "needs PHP 8.1 or later (default flags ENT_QUOTES | ENT_SUBSTITUTE | ENT_HTML401)\n");
    exit(1);
}

$inputs = [];
$add = function (string ...$strings) use (&$inputs): void {
    foreach ($strings as $s) {
        $inputs[$s] = true;  // keyed, so that overlapping groups add each input once
    }
};
$references = function (int $code) use ($add): void {
    $add(sprintf('&#%d;', $code), sprintf('&#x%x;', $code), sprintf('&#X%X;', $code));
};

// Every HTML 4.01 name, exact and in the ways it can be mistyped.
$html401 = [];
foreach (get_html_translation_table(HTML_ENTITIES, ENT_QUOTES | ENT_HTML401, 'UTF-8') as $char => $entity) {
    $name = substr($entity, 1, -1);
    if ($name[0] === '#') {
        continue;  // ENT_QUOTES lists the apostrophe as &#039;, a number, not a name
    }
    $html401[$name] = $char;
    $add("&$name;", "&$name", "&$name=1", "x&$name;y", '&' . strtoupper($name) . ';',
        '&' . strtolower($name) . ';', '&' . ucfirst($name) . ';', "&$name;;", "&amp;$name;");
}
ksort($html401, SORT_STRING);

// Every name HTML5 adds (PHP's HTML5 table), which html.unescape would decode.
foreach (get_html_translation_table(HTML_ENTITIES, ENT_QUOTES | ENT_HTML5, 'UTF-8') as $entity) {
    $name = substr($entity, 1, -1);
    if (!isset($html401[$name])) {
        $add("&$name;", "&$name", "a&$name b");
    }
}
// Prefixes of HTML 4.01 names without ';', which HTML5 decodes as legacy references.
$add('&copy=2024', '&notes', '&copyright', '&ampx', '&lt3', '&gtx;', '&not;es', '&notin;', '&notit;',
    '&apos;', '&APOS;', '&#39;', '&#039;', '&#x27;', '&quot;', '&QUOT;', '&#34;', '&#x22;');

// Every code point up to 0x3FF (C0, DEL, C1, Latin, ...) and the edges of every allowed range.
for ($code = 0; $code <= 0x3FF; $code++) {
    $references($code);
}
foreach ([0xD7FF, 0xD800, 0xDBFF, 0xDC00, 0xDFFF, 0xE000, 0xFDCF, 0xFFFD, 0x10000, 0x10FFFF,
          0x110000, 0x1FFFFF, 0x7FFFFFFF, 0xFFFFFFFF, 0x100000000] as $code) {
    $references($code);
}
for ($code = 0xFDD0; $code <= 0xFDEF; $code++) {
    $references($code);
}
for ($plane = 0; $plane <= 0x10; $plane++) {
    foreach ([0xFFFD, 0xFFFE, 0xFFFF] as $low) {
        $references(($plane << 16) | $low);
    }
}

// Numbers as C strtol reads them: prefixes, signs, spaces, leading zeros, overflow.
$add('&#x0x41;', '&#X0X41;', '&#x0X41;', '&#X0x41;', '&#x00x41;', '&#x0x0x41;', '&#x0x;', '&#x0xg;',
    '&#0x41;', '&#x-41;', '&#-65;', '&#+65;', '&#x+41;', '&# 65;', '&#x 41;', '&#65 ;', "&#\t65;",
    '&#65a;', '&#x41g;', '&#x4G;', '&#65', '&#x41', '&#X41;', '&#x41;', '&#xa9;', '&#xA9;', '&#Xa9;',
    '&#0065;', '&#x0041;', '&#' . str_repeat('0', 100) . '65;', '&#x' . str_repeat('0', 100) . '41;',
    '&#0;', '&#x0;', '&#00;', '&#;', '&#x;', '&#X;', '&#', '&#x', '&#xx41;', '&#x#41;', '&##65;',
    '&#1114111;', '&#1114112;', '&#01114111;', '&#x010FFFF;', '&#x0010ffff;',
    '&#9223372036854775807;', '&#9223372036854775808;', '&#18446744073709551616;',
    '&#x7FFFFFFFFFFFFFFF;', '&#x8000000000000000;', '&#xFFFFFFFFFFFFFFFFFF;',
    '&#99999999999999999999999;', '&#' . str_repeat('9', 5000) . ';', '&#x' . str_repeat('f', 5000) . ';',
    '&#' . str_repeat('0', 5000) . '9;', '&#٣;', '&#x٣;', '&#６５;');

// Seeded random code points over the whole range, decimal and hexadecimal in mixed case.
mt_srand(20240501);
for ($i = 0; $i < 3000; $i++) {
    $code = mt_rand(0, 0x10FFFF);
    $hex = sprintf('%x', $code);
    $add(sprintf('&#%d;', $code), '&#' . (mt_rand(0, 1) ? 'x' : 'X') . (mt_rand(0, 1) ? strtoupper($hex) : $hex) . ';');
}

// One pass only, ampersand chains, boundaries at the ends of the string, odd neighbours.
$add('', '&', '&&', '&;', '& ;', '&&lt;', '&lt;&gt;', '&lt;;', '&lt', 'ab&', 'ab&l', 'ab&lt', 'ab&lt;',
    '&amp;', '&amp;amp;', '&amp;amp;amp;', '&amp;lt;', '&amp;#65;', '&amp;#x41;', '&#38;lt;', '&#x26;amp;',
    '&#38;#38;', '&amp&lt;', '&#&lt;', '&#x&lt;', '&x&lt;', '&l&t;', '&#6&#53;', '&é;', '&Ã©;', '&a-b;',
    '&a_b;', '&lt ;', '& lt;', "&lt\n;", '&' . str_repeat('a', 300) . ';', str_repeat('&amp;', 50),
    '😀&amp;😀', 'Jörg &amp; Müller-Straße', "Tom &amp; Jerry &copy 2024 &hellip; &apos;n&#39; &#128;€",
    'Fish &copy=2024 &amp; Chips &notes &lt3 &check; &#x0x41; &#xFFFE; &#xD800; &#0; &#x110000;',
    'a=1&b=2&amp;c=3', 'https://example.com/?a=1&copy=2&lang=de&amp;x=&#x2F;', '&Amp;&AMP;&aMp;&amp;');

$rows = [];
foreach (array_keys($inputs) as $input) {
    $input = (string) $input;  // numeric-looking keys come back as ints
    $rows[] = json_encode([$input, html_entity_decode($input)], JSON_UNESCAPED_UNICODE | JSON_UNESCAPED_SLASHES | JSON_THROW_ON_ERROR);
}
$header = [
    'php_version' => PHP_VERSION,
    'flags' => 'default: ENT_QUOTES | ENT_SUBSTITUTE | ENT_HTML401',
    'html401_entities' => $html401,
];
$head = json_encode($header, JSON_UNESCAPED_UNICODE | JSON_UNESCAPED_SLASHES | JSON_THROW_ON_ERROR);
echo substr($head, 0, -1), ",\n\"rows\": [\n", implode(",\n", $rows), "\n]}\n";
