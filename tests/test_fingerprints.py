"""GitHub's primaryLocationLineHash (published test vectors) and finding fingerprints."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mlsec_lint.fingerprints import finding_fingerprint, line_hashes, span_text

# github/codeql-action src/fingerprints.test.ts
VECTORS = [
    ("", ["c129715d7a2bc9a3:1"]),
    (
        " a\nb\n  \t\tc\n d",
        ["271789c17abda88f:1", "54703d4cd895b18:1", "180aee12dab6264:1", "a23a3dc5e078b07b:1"],
    ),
    (
        " hello; \t\nworld!!!\n\n\n  \t\tGreetings\n End",
        [
            "8b7cf3e952e7aeb2:1",
            "b1ae1287ec4718d9:1",
            "bff680108adb0fcc:1",
            "c6805c5e1288b612:1",
            "b86d3392aea1be30:1",
            "e6ceba753e1a442:1",
        ],
    ),
    *[
        (
            text,
            [
                "e9496ae3ebfced30:1",
                "fb7c023a8b9ccb3f:1",
                "ce8ba1a563dcdaca:1",
                "e20e36e16fcb0cc8:1",
                "b3edc88f2938467e:1",
                "c8e28b0b4002a3a0:1",
                "c129715d7a2bc9a3:1",
            ],
        )
        for text in (
            " hello; \t\nworld!!!\n\n\n  \t\tGreetings\n End\n",
            " hello; \t\nworld!!!\r\r\r  \t\tGreetings\r End\r",
            " hello; \t\r\nworld!!!\r\n\r\n\r\n  \t\tGreetings\r\n End\r\n",
            " hello; \t\nworld!!!\r\n\n\r  \t\tGreetings\r End\r\n",
        )
    ],
    (
        "Lorem ipsum dolor sit amet.\n" * 10,
        [
            *(f"a7f2ff13bc495cf2:{i}" for i in range(1, 7)),
            "a7f2ff1481e87703:1",
            "a9cf91f7bbf1862b:1",
            "55ec222b86bcae53:1",
            "cc97dc7b1d7d8f7b:1",
            "c129715d7a2bc9a3:1",
        ],
    ),
]


@pytest.mark.parametrize(("text", "expected"), VECTORS)
def test_published_test_vectors(text: str, expected: list[str]) -> None:
    hashes = line_hashes(text)
    assert [hashes[i] for i in sorted(hashes)] == expected
    assert sorted(hashes) == list(range(1, len(expected) + 1))


@given(st.text(alphabet=st.sampled_from("ab \t\n\r\u00e9\U0001f600x"), max_size=300), st.data())
def test_stopping_early_gives_the_same_hashes(text: str, data: st.DataObject) -> None:
    full = line_hashes(text)
    wanted = data.draw(st.sets(st.sampled_from(sorted(full)), min_size=1))
    partial = line_hashes(text, wanted)
    assert all(partial[line] == full[line] for line in wanted)


def test_non_bmp_characters_count_as_two_code_units() -> None:
    # 60 astral characters are 120 UTF-16 code units: line 2 leaves the window
    one = line_hashes("\U0001f600" * 60 + "\nx")
    two = line_hashes("\U0001f600" * 60 + "\ny")
    assert one[1] == two[1]
    three = line_hashes("\U0001f600" * 40 + "\nx")
    four = line_hashes("\U0001f600" * 40 + "\ny")
    assert three[1] != four[1]


def test_fingerprint_ignores_whitespace_and_lines() -> None:
    a = finding_fingerprint("MLS-DEP-001", "req.txt", "dependency/torch", "torch  >=2")
    b = finding_fingerprint("MLS-DEP-001", "req.txt", "dependency/torch", "torch >=2")
    c = finding_fingerprint("MLS-DEP-001", "other/req.txt", "dependency/torch", "torch >=2")
    assert a == b != c and len(a) == 32


def test_span_text_uses_the_first_line_of_the_span() -> None:
    lines = ["kind: Ingress", "  name: x", "spec: {}"]
    assert span_text(lines, 1, 1, 3, 9) == "kind: Ingress"
    assert span_text(lines, 2, 3, 2, 10) == "name: x"
    assert span_text(lines, 9, 1, 9, 2) == ""


def test_the_digest_is_sha256_whichever_implementation_is_used() -> None:
    import hashlib

    from mlsec_lint.fingerprints import _sha256

    data = b"MLS-PY-002\0serve.py\0key\0torch.load(path)"
    assert _sha256()(data).hexdigest() == hashlib.sha256(data).hexdigest()
