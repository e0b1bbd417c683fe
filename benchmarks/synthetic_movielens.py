"""Write a synthetic MovieLens CSV folder (ratings.csv, movies.csv, tags.csv) for timing
``recstream eval`` at ml-latest-small scale and beyond: by default 100,000 ratings of 10,000
movies by 1,000 users. Nothing here is committed data: generate it where you time it.

    python benchmarks/synthetic_movielens.py /tmp/ml-synth
    recstream eval --dataset /tmp/ml-synth --protocol loo --peers

Movies have Zipf popularity and one of 20 genres; each user prefers three genres and walks
through a random sequence of sessions, so co-occurrence, order and content all carry some
signal (a smoke test of cost, not of quality).
"""

from __future__ import annotations

import argparse
import csv
import random
from pathlib import Path

GENRES = ["Action", "Adventure", "Animation", "Children", "Comedy", "Crime", "Documentary",
          "Drama", "Fantasy", "Film-Noir", "Horror", "IMAX", "Musical", "Mystery", "Romance",
          "Sci-Fi", "Thriller", "War", "Western", "Biography"]
WORDS = [f"word{n}" for n in range(2000)]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("out", type=Path)
    ap.add_argument("--ratings", type=int, default=100_000)
    ap.add_argument("--items", type=int, default=10_000)
    ap.add_argument("--users", type=int, default=1_000)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    rng = random.Random(args.seed)
    args.out.mkdir(parents=True, exist_ok=True)
    genre = [rng.randrange(len(GENRES)) for _ in range(args.items)]
    by_genre: dict[int, list[int]] = {}
    for m, g in enumerate(genre):
        by_genre.setdefault(g, []).append(m)
    weights = {g: [1.0 / (r + 1) for r in range(len(ms))] for g, ms in by_genre.items()}
    with (args.out / "movies.csv").open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["movieId", "title", "genres"])
        for m in range(args.items):
            title = " ".join(rng.sample(WORDS, 3)) + f" ({1950 + m % 70})"
            w.writerow([m + 1, title, GENRES[genre[m]]])
    per_user = args.ratings // args.users
    t0 = 1_100_000_000
    with (args.out / "ratings.csv").open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["userId", "movieId", "rating", "timestamp"])
        for u in range(args.users):
            likes = rng.sample(sorted(by_genre), 3)
            seen: set[int] = set()
            ts = t0 + rng.randrange(10**8)
            while len(seen) < per_user:
                g = rng.choice(likes)
                m = rng.choices(by_genre[g], weights[g])[0]
                if m in seen:
                    continue
                seen.add(m)
                ts += rng.randrange(1, 3600)
                w.writerow([u + 1, m + 1, rng.choice([3.0, 3.5, 4.0, 4.5, 5.0]), ts])
    with (args.out / "tags.csv").open("w", newline="") as f:
        csv.writer(f).writerow(["userId", "movieId", "tag", "timestamp"])


if __name__ == "__main__":
    main()
