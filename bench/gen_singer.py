#!/usr/bin/env python3
"""Data for bench/postgres.sh: one Singer stream "orders" and the same
rows pre-flattened as CSV, for loading with psql's \\copy.

    gen_singer.py KIND COUNT OUTDIR

KIND is
  flat    14 data columns, every id distinct
  upsert  like flat, but about 30 % of the records repeat an earlier id
  nested  flat plus an object (shipping, flattened to shipping__* columns)
          and an array of 1-4 objects (items, the subtable orders__items)

Writes into OUTDIR:
  KIND.jsonl        SCHEMA, then COUNT RECORD lines (with version and
                    time_extracted)
  KIND.csv          the root table's rows, system columns included
  KIND_items.csv    (nested) the rows of orders__items
  KIND.meta         KEY=VALUE lines: RECORDS, KEYS (distinct ids), ITEMS
                    (subtable rows), ROOT_COLS and ITEM_COLS (column
                    definitions in CSV order, ';'-separated)

The CSVs carry the system columns dray writes (_sdc_received_at,
_sdc_batched_at, _sdc_sequence, _sdc_table_version, _sdc_extracted_at on
the root) with equivalent values: one received/batched time, a sequence
that grows with the record's position, the record's version and
time_extracted. Deterministic: the same arguments give the same bytes.
"""
import csv
import json
import random
import sys

VERSION = 1700000000000
SEQUENCE_BASE = 1764000000000000000
RECEIVED_AT = "2026-01-01T00:00:00.000000Z"

ROOT_COLS = [
    ("id", "bigint"), ("customer_id", "bigint"), ("store_id", "bigint"),
    ("quantity", "bigint"), ("status", "text"), ("email", "text"),
    ("city", "text"), ("note", "text"), ("coupon", "text"),
    ("amount", "numeric"), ("weight_kg", "double precision"),
    ("is_gift", "boolean"), ("is_paid", "boolean"),
    ("created_at", "timestamp with time zone"),
]
SHIPPING_COLS = [
    ("shipping__name", "text"), ("shipping__street", "text"),
    ("shipping__zip", "text"), ("shipping__country", "text"),
]
ROOT_SYSTEM = [
    ("_sdc_received_at", "timestamp with time zone"),
    ("_sdc_batched_at", "timestamp with time zone"),
    ("_sdc_sequence", "bigint"), ("_sdc_table_version", "bigint"),
    ("_sdc_extracted_at", "timestamp with time zone"),
]
ITEM_COLS = [
    ("_sdc_source_key_id", "bigint"), ("_sdc_level_0_id", "bigint"),
    ("sku", "text"), ("qty", "bigint"), ("price", "numeric"),
    ("_sdc_received_at", "timestamp with time zone"),
    ("_sdc_batched_at", "timestamp with time zone"),
    ("_sdc_sequence", "bigint"), ("_sdc_table_version", "bigint"),
]

STATUSES = ["open", "paid", "shipped", "cancelled", "refunded"]
CITIES = ["Berlin", "Zürich", "São Paulo", "Kraków", "東京", "Lyon",
          "Oslo", "Austin", "Nairobi", "Melbourne"]
WORDS = ["alpha", "beta", "gamma", "delta", "order", "customer", "gift",
         "fragile", "rush", "café", "naïve", "quote \"x\"", "a, b",
         "line\nbreak", "tab\there", "back\\slash", "😀"]
COUNTRIES = ["DE", "CH", "BR", "PL", "JP", "FR", "NO", "US", "KE", "AU"]
STREETS = ["Main St", "Hauptstraße", "Rue de la Paix", "Long Road",
           "Ulica Długa", "Elm Ave"]

INT = {"type": "integer"}
STR = {"type": "string"}
DT = {"type": "string", "format": "date-time"}
MONEY = {"type": "number", "multipleOf": 0.01}


def schema(kind):
    props = {
        "id": INT, "customer_id": INT, "store_id": INT, "quantity": INT,
        "status": STR, "email": STR, "city": STR, "note": STR,
        "coupon": {"type": ["null", "string"]},
        "amount": MONEY, "weight_kg": {"type": "number"},
        "is_gift": {"type": "boolean"}, "is_paid": {"type": "boolean"},
        "created_at": DT,
    }
    if kind == "nested":
        props["shipping"] = {"type": "object", "properties": {
            "name": STR, "street": STR, "zip": STR, "country": STR}}
        props["items"] = {"type": "array", "items": {
            "type": "object", "properties": {
                "sku": STR, "qty": INT, "price": MONEY}}}
    msg = {"type": "SCHEMA", "stream": "orders", "key_properties": ["id"],
           "schema": {"type": "object", "properties": props}}
    return json.dumps(msg, separators=(",", ":"))


def stamp(rng):
    return "2025-%02d-%02dT%02d:%02d:%02d.%06dZ" % (
        rng.randint(1, 12), rng.randint(1, 28), rng.randint(0, 23),
        rng.randint(0, 59), rng.randint(0, 59), rng.randint(0, 999999))


def note(rng):
    n = rng.randint(2, 8)
    return " ".join(rng.choice(WORDS) if rng.random() < 0.3
                    else rng.choice(WORDS[:9]) for _ in range(n))


class Pick:
    """Values drawn from pools made once: random.randint per field would
    make the generator slower than the loads it feeds."""

    def __init__(self, rng):
        r = rng.random
        self.r = r
        self.stamps = [stamp(rng) for _ in range(65521)]
        self.notes = [note(rng) for _ in range(4093)]
        self.notes = [(t, jstr(t)) for t in self.notes]
        self.cities = [(c, jstr(c)) for c in CITIES]

    def int(self, lo, hi):
        return lo + int(self.r() * (hi - lo + 1))

    def of(self, pool):
        return pool[int(self.r() * len(pool))]

    def money(self, hi):
        return "%d.%02d" % (self.int(0, hi), self.int(0, 99))


def jstr(s):
    return json.dumps(s, ensure_ascii=False)


class Keys:
    """Which id each record gets: distinct, or (upsert) about 30 % of the
    records repeating an id given before."""

    def __init__(self, rng, repeat):
        self.rng, self.repeat, self.issued = rng, repeat, 0

    def next(self):
        if self.repeat and self.issued and self.rng.random() < 0.3:
            return self.rng.randrange(self.issued) + 1
        self.issued += 1
        return self.issued


def write_meta(path, records, keys, items, nested):
    cols = ROOT_COLS + (SHIPPING_COLS if nested else []) + ROOT_SYSTEM
    with open(path, "w", encoding="utf-8") as f:
        f.write("RECORDS=%d\nKEYS=%d\nITEMS=%d\n" % (records, keys, items))
        f.write("ROOT_COLS=%s\n" % ";".join("%s %s" % c for c in cols))
        f.write("ITEM_COLS=%s\n" % ";".join("%s %s" % c for c in ITEM_COLS))


def generate(kind, count, outdir):
    nested = kind == "nested"
    rng = random.Random({"flat": 1, "upsert": 2, "nested": 3}[kind])
    pick = Pick(rng)
    r = pick.r
    keys = Keys(rng, kind == "upsert")
    items_total = 0
    jf = open("%s/%s.jsonl" % (outdir, kind), "w", encoding="utf-8")
    cf = open("%s/%s.csv" % (outdir, kind), "w", encoding="utf-8",
              newline="")
    root = csv.writer(cf, lineterminator="\n")
    if nested:
        itf = open("%s/%s_items.csv" % (outdir, kind), "w",
                   encoding="utf-8", newline="")
        child = csv.writer(itf, lineterminator="\n")
        names = [(n, jstr(n)) for n in (
            "%s %s" % (a, b) for a in ("Ana", "Bo", "Chen", "Dara", "Émile")
            for b in ("Silva", "Nowak", "Müller", "O'Neil"))]
    jf.write(schema(kind) + "\n")
    extracted = pick.of(pick.stamps)
    for i in range(count):
        if i % 1000 == 0:  # a tap's time_extracted changes now and then
            extracted = pick.of(pick.stamps)
        seq = SEQUENCE_BASE + i
        rid = keys.next()
        cust, store = pick.int(1, 10**6), pick.int(1, 500)
        qty = pick.int(1, 50)
        status = pick.of(STATUSES)
        city, city_j = pick.of(pick.cities)
        email = "user%d@example.com" % cust
        text, text_j = pick.of(pick.notes)
        coupon = None if r() < 0.7 else "SAVE%d" % pick.int(5, 50)
        amount = pick.money(99999)
        weight = repr(r() * 40)
        gift, paid = r() < 0.1, r() < 0.6
        created = pick.of(pick.stamps)
        parts = [
            '{"type":"RECORD","stream":"orders","record":{"id":%d,'
            '"customer_id":%d,"store_id":%d,"quantity":%d,"status":"%s",'
            '"email":"%s","city":%s,"note":%s,"coupon":%s,"amount":%s,'
            '"weight_kg":%s,"is_gift":%s,"is_paid":%s,"created_at":"%s"' % (
                rid, cust, store, qty, status, email, city_j, text_j,
                "null" if coupon is None else '"%s"' % coupon, amount,
                weight, "true" if gift else "false",
                "true" if paid else "false", created)]
        row = [rid, cust, store, qty, status, email, city, text, coupon,
               amount, weight, "t" if gift else "f", "t" if paid else "f",
               created]
        if nested:
            name, name_j = pick.of(names)
            street = "%d %s" % (pick.int(1, 999), pick.of(STREETS))
            street_j = jstr(street)
            zipc, country = "%05d" % pick.int(0, 99999), pick.of(COUNTRIES)
            parts.append(',"shipping":{"name":%s,"street":%s,"zip":"%s",'
                         '"country":"%s"}' % (name_j, street_j, zipc,
                                              country))
            row += [name, street, zipc, country]
            items = []
            for level in range(pick.int(1, 4)):
                sku = "SKU-%06d" % pick.int(0, 999999)
                iq, price = pick.int(1, 9), pick.money(999)
                items.append('{"sku":"%s","qty":%d,"price":%s}' % (
                    sku, iq, price))
                child.writerow([rid, level, sku, iq, price, RECEIVED_AT,
                                RECEIVED_AT, seq, VERSION])
            items_total += len(items)
            parts.append(',"items":[%s]' % ",".join(items))
        parts.append('},"version":%d,"time_extracted":"%s"}\n' % (
            VERSION, extracted))
        jf.write("".join(parts))
        root.writerow(row + [RECEIVED_AT, RECEIVED_AT, seq, VERSION,
                             extracted])
    jf.close()
    cf.close()
    if nested:
        itf.close()
    write_meta("%s/%s.meta" % (outdir, kind), count, keys.issued,
               items_total, nested)


def main():
    if len(sys.argv) != 4 or sys.argv[1] not in ("flat", "upsert", "nested"):
        sys.stderr.write("usage: gen_singer.py flat|upsert|nested COUNT "
                         "OUTDIR\n")
        return 2
    generate(sys.argv[1], int(sys.argv[2]), sys.argv[3])
    return 0


if __name__ == "__main__":
    sys.exit(main())
