<?php
// Run: php tests/payloads/php/make_signatures.php > tests/payloads/php/signatures.json  (made with PHP 8.2.36 CLI, Debian php-cli)
//
// Signs IPN parameter sets the way Digistore24's documented signature function does
// (shared/digistore24.md §2.1), in PHP, so that webhooks/signing.py is checked against PHP's own
// sorting, strtoupper and html_entity_decode rather than against itself. Written from that
// description. The values hold entities where PHP and Python's html.unescape disagree.

if (PHP_VERSION_ID < 80100) {
    fwrite(STDERR, "needs PHP 8.1 or later (html_entity_decode default flags)\n");
    exit(1);
}

function ds24_signature(string $passphrase, array $parameters, bool $convert_keys_to_uppercase, bool $do_html_decode): string
{
    unset($parameters['sha_sign'], $parameters['SHASIGN']);
    $keys = array_map('strval', array_keys($parameters));
    $sort_by = $convert_keys_to_uppercase ? array_map('strtoupper', $keys) : $keys;
    array_multisort($sort_by, SORT_STRING, $keys);

    $message = '';
    foreach ($keys as $key) {
        $value = $parameters[$key];
        if ($do_html_decode && is_string($value)) {
            $value = html_entity_decode($value);  // default flags, as the official function calls it
        }
        if ($value === null || $value === '' || $value === false) {
            continue;  // "0" is kept
        }
        $message .= ($convert_keys_to_uppercase ? strtoupper($key) : $key) . '=' . $value . $passphrase;
    }
    return strtoupper(hash('sha512', $message));
}

$passphrase = 's3cret-passphrase';  // tests/conftest.py PASSPHRASE
$base = [
    'event' => 'on_payment',
    'api_mode' => 'live',
    'order_id' => 'PHP1',
    'transaction_id' => '555001',
    'product_id' => '12345',
    'amount_brutto' => '49.00',
    'currency' => 'EUR',
    'email' => 'kunde@example.com',
    'billing_type' => 'single_payment',
    'pay_sequence_no' => '0',
    'address_city' => '',
];
$sets = [
    'copy-without-semicolon' => ['product_name' => 'Fish &copy=2024 &amp; Chips', 'buyer_note' => 'see &notes'],
    'apos-and-numeric-quote' => ['product_name' => 'Rock &apos;n&#39; Roll &quot;Live&quot;'],
    'c1-and-hellip' => ['product_name' => 'Price &#128; 49 &hellip; &#x9F;', 'voucher_code' => 'A&amp;amp;B'],
    'html5-only-names' => ['product_name' => 'Done &check; &bigstar; &NewLine; &lt3 &lt;3'],
    'strtol-prefix-and-invalid-numbers' => ['product_name' => 'Key &#x0x41; &#0; &#xD800; &#x110000;'],
    'non-character-decodes' => ['custom' => '&#xFFFE;', 'product_name' => 'Kurs &#65279;&#xFDD0;'],
    'decodes-to-empty-in-python-only' => ['custom' => '&#xFFFF;'],
    'keys-equal-once-upper-cased' => ['tag' => 'one', 'TAG' => 'two', 'Tag' => '&lt;three&gt;', 'tAg' => '&amp;four'],
    'keys-in-mixed-case' => ['placeholder_TITLE' => 'Dr &amp Dr', 'Placeholder_b' => '&Auml;rger &auml', 'custom_Grüße' => 'x&amp;y'],
];

$out = ['php_version' => PHP_VERSION, 'passphrase' => $passphrase, 'sets' => []];
foreach ($sets as $name => $extra) {
    $params = $base + $extra;
    $params['order_id'] = 'PHP-' . $name;
    $signatures = [];
    foreach (['plain' => [false, false], 'uppercase_keys' => [true, false],
              'html_decode' => [false, true], 'uppercase_keys_html_decode' => [true, true]] as $variant => [$upper, $decode]) {
        $signatures[$variant] = ds24_signature($passphrase, $params, $upper, $decode);
    }
    $out['sets'][] = ['name' => $name, 'params' => $params, 'signatures' => $signatures];
}
echo json_encode($out, JSON_PRETTY_PRINT | JSON_UNESCAPED_UNICODE | JSON_UNESCAPED_SLASHES | JSON_THROW_ON_ERROR), "\n";
