"""tokio's FastRand (`tokio/src/util/rand.rs`): the generator that picks the first steal victim.

Reproduced exactly so that, given the same seed words, victims are chosen as tokio chooses them.
"""
M32 = 0xFFFFFFFF


class FastRand:
    __slots__ = ("one", "two")

    def __init__(self, one: int, two: int):
        # tokio replaces an all-zero seed, which would stick at zero forever
        if one == 0 and two == 0:
            two = 1
        self.one = one & M32
        self.two = two & M32

    @classmethod
    def from_u64(cls, seed: int) -> "FastRand":
        """A generator from one 64-bit seed, split as `RngSeed::from_u64` splits it (tokio
        util/rand.rs): high word, low word, and a low word of 0 replaced by 1."""
        return cls((seed >> 32) & M32, (seed & M32) or 1)

    def fastrand(self) -> int:
        s1 = self.one
        s0 = self.two
        s1 ^= (s1 << 17) & M32
        s1 = s1 ^ s0 ^ (s1 >> 7) ^ (s0 >> 16)
        self.one = s0
        self.two = s1
        return (s0 + s1) & M32

    def fastrand_n(self, n: int) -> int:
        # Lemire's multiply-shift reduction, as tokio does, not a modulo
        return (self.fastrand() * n) >> 32

    def next_seed(self) -> tuple:
        return self.fastrand(), self.fastrand()

    def next_generator(self) -> "FastRand":
        return FastRand(*self.next_seed())


def core_generators(seed_one: int, seed_two: int, workers: int) -> list:
    """Per-core generators as the builder makes them: G0 from the runtime's 64-bit seed
    (`RngSeed::from_u64`), G1 = G0.next_generator(), core i gets FastRand(G1.next_seed()) in
    creation order."""
    g0 = FastRand.from_u64(((seed_one & M32) << 32) | (seed_two & M32))
    g1 = g0.next_generator()
    return [FastRand(*g1.next_seed()) for _ in range(workers)]
