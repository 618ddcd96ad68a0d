"""Property: redact() never raises, is idempotent, leaves digit-free / @-free text alone, and removes
a generated e-mail, phone or card number wherever it is embedded."""
from __future__ import annotations

import re

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from assistant.privacy import luhn_ok, redact

text = st.text(alphabet=st.one_of(st.characters(codec="utf-8"),
                                  st.sampled_from(list("0123456789 -+().@,$") + ["\u202e", "１", "\x00"])),
               max_size=120)
words = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=["Nd", "No", "Nl"]), max_size=30).filter(
    lambda s: "@" not in s)


def luhn_complete(prefix: str) -> str:
    for d in "0123456789":
        if luhn_ok(prefix + d):
            return prefix + d
    raise AssertionError


email = st.builds(lambda user, host, tld: f"{user}@{host}.{tld}",
                  st.from_regex(r"[a-z][a-z0-9._+-]{0,15}", fullmatch=True).filter(lambda u: u[-1] not in "._+-"),
                  st.from_regex(r"[a-z][a-z0-9-]{0,10}[a-z0-9]", fullmatch=True), st.sampled_from(["com", "cn", "io", "co.uk"]))
card = st.builds(lambda p, sep: sep.join(p[i:i + 4] for i in range(0, 16, 4)),
                 st.from_regex(r"4[0-9]{14}", fullmatch=True).map(luhn_complete).filter(lambda s: len(set(s)) > 1),
                 st.sampled_from(["", " ", "-"]))
phone = st.one_of(
    st.from_regex(r"\+(1|44|49|86|33) [1-9][0-9]{2} [0-9]{3,4} [0-9]{4}", fullmatch=True),
    st.from_regex(r"1[3-9][0-9]{9}", fullmatch=True),
    st.from_regex(r"1[3-9][0-9]-[0-9]{4}-[0-9]{4}", fullmatch=True),
    st.from_regex(r"\([2-9][0-9]{2}\) [0-9]{3}-[0-9]{4}", fullmatch=True),
)
pii = st.one_of(email.map(lambda e: ("[email]", e)), card.map(lambda c: ("[card]", c)),
                phone.map(lambda p: ("[phone]", p)))


@settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck))
@given(s=text)
def test_never_raises_and_is_idempotent(s):
    out = redact(s)
    assert isinstance(out, str)
    assert redact(out) == out
    for run in re.findall(r"[0-9]{13,19}", out):
        assert not (luhn_ok(run) and len(set(run)) > 1 and run in s), f"card-like number survived: {run}"


@settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
@given(s=words)
def test_text_without_digits_or_at_is_unchanged(s):
    assert redact(s) == s


@settings(max_examples=200, deadline=None, suppress_health_check=list(HealthCheck))
@given(before=words, item=pii, after=words)
def test_embedded_pii_is_removed(before, item, after):
    token, value = item
    out = redact(f"{before} {value} {after}")
    assert value not in out
    assert token in out
    assert out.startswith(before) and out.endswith(after)
