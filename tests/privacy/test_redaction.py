"""redact(): e-mails, phones, cards (Luhn), IBANs (mod 97) go; prices, sizes, dates, model numbers stay."""
from __future__ import annotations

import pytest

from assistant.privacy import iban_ok, luhn_ok, redact


@pytest.mark.parametrize("text, expected", [
    # e-mail
    ("mail me at john.doe+shop@example.co.uk please", "mail me at [email] please"),
    ("王小明的邮箱 wang@qq.com", "王小明的邮箱 [email]"),
    ("JANE_O'NEIL@Mail.Example.ORG", "[email]"),
    # international phones
    ("call +1 (555) 123-4567 now", "call [phone] now"),
    ("+44 20 7946 0958", "[phone]"),
    ("0044 20 7946 0958", "[phone]"),
    ("+49 30 12345678", "[phone]"),
    ("+33 1 23 45 67 89", "[phone]"),
    ("+86 138 1234 5678", "[phone]"),
    ("+8613812345678", "[phone]"),
    # Chinese mobiles, plain / grouped / full-width, inside Chinese text
    ("我的手机13812345678", "我的手机[phone]"),
    ("手机 138-1234-5678 谢谢", "手机 [phone] 谢谢"),
    ("电话：１３８１２３４５６７８", "电话：[phone]"),
    # national formats
    ("555-123-4567", "[phone]"),
    ("(555) 123-4567", "[phone]"),
    ("555.123.4567", "[phone]"),
    ("020 7946 0958", "[phone]"),
    ("07700 900123", "[phone]"),
    ("01 23 45 67 89", "[phone]"),
    ("010-1234-5678", "[phone]"),
    ("call me on 5551234567 tomorrow", "call me on [phone] tomorrow"),
    ("whatsapp: 5551234", "whatsapp: [phone]"),
    # cards (Luhn-valid), grouped or not, Amex 4-6-5, full-width
    ("card 4111 1111 1111 1111 exp 12/27", "card [card] exp 12/27"),
    ("4111-1111-1111-1111", "[card]"),
    ("my visa is 4111111111111111.", "my visa is [card]."),
    ("amex 3782 822463 10005", "amex [card]"),
    ("5500 0000 0000 0004", "[card]"),
    ("6011000990139424", "[card]"),
    ("４１１１ １１１１ １１１１ １１１１", "[card]"),
    # IBAN
    ("IBAN DE89 3704 0044 0532 0130 00 thanks", "IBAN [iban] thanks"),
    ("GB82WEST12345698765432", "[iban]"),
    # several in one message
    ("a@b.io, +1 555 123 4567 and 4111111111111111", "[email], [phone] and [card]"),
])
def test_redacts(text, expected):
    assert redact(text) == expected


@pytest.mark.parametrize("text", [
    "$1,299.99", "under $1,299.99 please", "1,299,999.00", "€1.299,99", "123.456.789", "¥299", "1299.99 USD",
    "size 10.5", "shoe size 10.5 wide", "3.5mm jack", "1.5 oz", "100ml", "SPF 50", "5 x 10 x 15 cm",
    "WH-1000XM4", "SM-G991B", "iPhone 15 Pro 256GB", "RTX 4090", "Dyson V15 Detect", "KDL-55W8000",
    "B07XJ8C8F5", "model 1234-5678", "ISO 9001", "ISBN 978-3-16-148410-0", "EAN 4006381333931",
    "2024-05-01", "2024-05-01 10:30", "12/27", "order 12345678", "between 1000 and 2000 dollars",
    "100-200 yuan", "一百块以内的口红", "pack of 12", "4K 3840x2160", "version 1.2.3",
    "bad 4111 1111 1111 1112",          # 16 digits, Luhn fails: not a card (and not a phone)
    "0000 0000 0000 0000",              # Luhn-valid but all zeros
    "contact lens 1-day 90 pack", "cellulite cream 200ml", "recall notice 2024",
    "UN65TU7000FXZA", "QE55Q80TATXXU",  # TV model numbers shaped like an IBAN (mod-97 fails)
    "user@localhost",                   # no top-level domain
    "", "   ", "no numbers at all",
])
def test_keeps(text):
    assert redact(text) == text


def test_idempotent_and_types():
    text = "mail a@b.io or call +1 555 123 4567, card 4111111111111111"
    once = redact(text)
    assert redact(once) == once
    assert redact(None) == ""
    assert redact(12345) == "12345"
    assert redact(4111111111111111) == "[card]"


def test_checksums():
    assert luhn_ok("4111111111111111") and not luhn_ok("4111111111111112")
    assert luhn_ok("378282246310005")
    assert iban_ok("DE89 3704 0044 0532 0130 00") and not iban_ok("DE89 3704 0044 0532 0130 01")
    assert not iban_ok("DE89")


def test_long_text_is_fast():
    import time

    text = ("Looking for a red lipstick under $25, size 10.5, model WH-1000XM4. " * 2000
            + "mail me: x@y.com")
    started = time.perf_counter()
    out = redact(text)
    assert out.endswith("mail me: [email]")
    assert time.perf_counter() - started < 2.0
