def test_the_common_prefix_of_two_texts_is_found_by_halving() -> None:
    import random

    from mlsec_lint.fix import _common_prefix

    def naive(a: str, b: str) -> int:
        n = 0
        while n < min(len(a), len(b)) and a[n] == b[n]:
            n += 1
        return n

    rng = random.Random(7)
    for _ in range(500):
        a = "".join(rng.choice("ab\n") for _ in range(rng.randrange(0, 40)))
        b = a[: rng.randrange(0, len(a) + 1)] + "".join(
            rng.choice("ab\n") for _ in range(rng.randrange(0, 5))
        )
        assert _common_prefix(a, b) == naive(a, b) == _common_prefix(b, a)
