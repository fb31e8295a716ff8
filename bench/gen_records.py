#!/usr/bin/env python3
"""Writes a stream of flat Singer RECORD messages, one a line, ~425 bytes
each: ints, decimals, strings (some with escapes, some non-ASCII),
booleans, nulls and date-times. Deterministic: the same seed gives the
same bytes. Usage: gen_records.py COUNT OUT"""
import json
import random
import sys

WORDS = ["alpha", "beta", "gamma", "delta", "order", "customer", "Zürich",
         "São Paulo", "Kraków", "東京", "naïve", "café", "straße", "résumé",
         "quote \"x\"", "tab\there", "line\nbreak", "back\\slash", "😀 ok"]


def text(rng, lo, hi):
    words = []
    while len(" ".join(words)) < lo:
        words.append(rng.choice(WORDS[:5]) if rng.random() < 0.8
                     else rng.choice(WORDS))
    return " ".join(words)[:hi]


def stamp(rng):
    return "2024-%02d-%02dT%02d:%02d:%02d.%06dZ" % (
        rng.randint(1, 12), rng.randint(1, 28), rng.randint(0, 23),
        rng.randint(0, 59), rng.randint(0, 59), rng.randint(0, 999999))


def record(rng, i):
    rec = {
        "id": i,
        "status": rng.choice(["open", "paid", "shipped", "cancelled"]),
        "amount": "%d.%02d" % (rng.randint(0, 99999), rng.randint(0, 99)),
        "tax_rate": round(rng.random() / 4, 4),
        "quantity": rng.randint(1, 500),
        "is_gift": rng.random() < 0.1,
        "coupon": None if rng.random() < 0.7 else text(rng, 6, 12),
        "email": "u%d@example.com" % rng.randint(1, 10**6),
        "city": rng.choice(WORDS[:10]),
        "note": text(rng, 10, 30),
        "created_at": stamp(rng),
        "updated_at": stamp(rng),
        "weight_kg": rng.randint(0, 10**6) / 1000.0,
        "score": rng.randint(-10**6, 10**6) * 1e-3,
    }
    msg = {"type": "RECORD", "stream": "orders", "record": rec,
           "version": 1700000000000, "time_extracted": stamp(rng)}
    return json.dumps(msg, ensure_ascii=rng.random() < 0.5,
                      separators=(",", ":"))


def main():
    count, out = int(sys.argv[1]), sys.argv[2]
    rng = random.Random(8259)
    with open(out, "w", encoding="utf-8") as f:
        for i in range(count):
            f.write(record(rng, i))
            f.write("\n")


if __name__ == "__main__":
    main()
