"""Independent DuckDB SQL for Spoor's analytics, over the pipeline's Parquet.

Usage: agreement.py DATA_DIR PARAMS_JSON  ->  prints one JSON object with the
funnel, retention, attribution and experiment numbers. Written from the rules in
docs/analytics.md, not from the Rust code; the Rust test compares the two.
"""

import json
import math
import sys

import duckdb

DAY = 86_400_000_000
con = duckdb.connect()
con.execute("SET TimeZone = 'UTC'")
F = T = 0


def setup(data, start_us, end_us, materialize=True):
    """Defines `ev`: every raw event with its person resolved through the identity
    links. For the benchmark it is a view (DuckDB pushes projections and the
    partition filters of each query into the scan); the agreement test
    materializes it once."""
    global F, T
    F, T = start_us, end_us
    raw = f"read_parquet('{data}/raw/**/*.parquet', hive_partitioning = true, union_by_name = true)"
    ids = f"read_parquet('{data}/tables/identities/*.parquet', union_by_name = true)"
    # Identity: the first link of an id wins; follow up to three hops.
    con.execute(f"""
    CREATE OR REPLACE TEMP TABLE links AS
    SELECT anonymous_id, arg_min(person_id, event_time) AS person_id
    FROM {ids} GROUP BY anonymous_id
    """)
    kind = "TEMP TABLE" if materialize else "TEMP VIEW"
    con.execute(f"""
CREATE OR REPLACE {kind} ev AS
SELECT coalesce(l3.person_id, l2.person_id, l1.person_id, r.person_id) AS person,
       coalesce(r.event_name, r.type) AS name,
       epoch_us(r.event_time) AS t,
       r.event_id, r.revenue, r.experiment, r.variant, r.properties,
       r.utm_source, r.utm_medium, r.utm_campaign, r.referrer, r.event AS partition_event
FROM {raw} r
LEFT JOIN links l1 ON l1.anonymous_id = r.person_id
LEFT JOIN links l2 ON l2.anonymous_id = l1.person_id
LEFT JOIN links l3 ON l3.anonymous_id = l2.person_id
""")


def rows(sql):
    return con.execute(sql).fetchall()


def funnel(steps, window, breakdown, counts_only=False):
    """Greedy chains: from every step-1 event take each next step at its first
    occurrence after the previous one; a chain reaches step k when that step lies
    within the window of its start."""
    names = ", ".join(f"'{s}'" for s in steps)
    parts = [f"""e AS (SELECT person, name, t, properties FROM ev
                 WHERE partition_event IN ({names}) AND t >= {F} AND t < {T} AND name IN ({names}))""",
             f"""c1 AS (SELECT DISTINCT person, t AS t1 FROM e WHERE name = '{steps[0]}')"""]
    for k in range(2, len(steps) + 1):
        cols = ", ".join(f"c.t{i}" for i in range(1, k))
        parts.append(f"""c{k} AS (SELECT c.person, {cols}, n.t AS t{k} FROM c{k-1} c
            ASOF LEFT JOIN (SELECT person, t FROM e WHERE name = '{steps[k-1]}') n
            ON c.person = n.person AND n.t > c.t{k-1})""")
    n = len(steps)
    valid = ["TRUE"]
    for k in range(2, n + 1):
        valid.append(f"({valid[-1]} AND t{k} IS NOT NULL AND t{k} - t1 <= {window})")
    depth = " + ".join(f"({v})::INT" for v in valid)
    parts.append(f"chains AS (SELECT *, {depth} AS depth FROM c{n})")
    parts.append("people AS (SELECT person, max(depth) AS depth FROM chains GROUP BY person)")
    with_sql = "WITH " + ",\n".join(parts)
    counts = list(rows(f"{with_sql} SELECT " + ", ".join(
        f"count(*) FILTER (WHERE depth >= {k})" for k in range(1, n + 1)) + " FROM people")[0])
    if counts_only:
        return {"counts": counts}
    medians = [None]
    for k in range(2, n + 1):
        value = rows(f"""{with_sql},
            firsts AS (SELECT person, first(t{k} - t{k-1} ORDER BY t{k} ASC, t1 DESC) AS gap
                       FROM chains WHERE depth >= {k} GROUP BY person)
            SELECT quantile_cont(gap / 1e6, 0.5) FROM firsts""")[0][0]
        medians.append(value)
    groups = {}
    for value, k, count in rows(f"""{with_sql},
            first_values AS (SELECT person, arg_min(json_extract_string(properties, '$.{breakdown}'), t) AS value
                             FROM e WHERE name = '{steps[0]}' GROUP BY person),
            levels AS (SELECT unnest(range(1, {n + 1})) AS k)
            SELECT coalesce(v.value, '(none)'), l.k, count(*) FROM people p JOIN first_values v USING (person)
            JOIN levels l ON p.depth >= l.k GROUP BY ALL"""):
        groups.setdefault(value, [0] * n)[k - 1] = count
    return {"counts": counts, "medians": medians, "breakdown": groups}


def retention():
    last = (T - 1) // DAY
    sizes = dict(rows(f"""SELECT first // {DAY}, count(*) FROM
        (SELECT person, min(t) AS first FROM ev WHERE t >= {F} AND t < {T} GROUP BY person) GROUP BY ALL"""))
    cohorts = {c: [0] * (last - c + 1) for c in sizes}
    for cohort, k, count in rows(f"""
        WITH e AS (SELECT person, t FROM ev WHERE t >= {F} AND t < {T}),
        f AS (SELECT person, min(t) // {DAY} AS cohort FROM e GROUP BY person),
        a AS (SELECT DISTINCT person, t // {DAY} AS d FROM e)
        SELECT f.cohort, a.d - f.cohort, count(*) FROM f JOIN a USING (person) WHERE a.d >= f.cohort GROUP BY ALL"""):
        cohorts[cohort][k] = count
    return [{"day": c, "size": sizes[c], "retained": cohorts[c]} for c in sorted(cohorts)]


def attribution(lookback, half_life, model_names=("first_touch", "last_touch", "linear", "position_based", "time_decay")):
    sep = "chr(31)"
    totals = rows(f"""SELECT count(*), coalesce(sum(coalesce(revenue, 0)), 0)::DOUBLE FROM ev
        WHERE name = 'purchase_completed' AND t >= {F} AND t < {T}""")[0]
    base = f"""
    WITH conv AS (SELECT person, event_id, t, coalesce(revenue, 0) AS rev FROM ev
                  WHERE name = 'purchase_completed' AND t >= {F} AND t < {T}),
    touch AS (SELECT person, t,
                CASE WHEN coalesce(utm_source, '') <> '' THEN utm_source || {sep} || coalesce(utm_medium, '') || {sep} || coalesce(utm_campaign, '')
                     WHEN coalesce(referrer, '') <> '' THEN referrer || {sep} || 'referral' || {sep}
                END AS channel
              FROM ev WHERE t >= {F - lookback} AND t < {T}),
    path AS (SELECT c.event_id, c.t AS ct, c.rev, tt.t, tt.channel,
                    lag(tt.channel) OVER (PARTITION BY c.event_id ORDER BY tt.t) AS previous
             FROM conv c JOIN touch tt ON tt.person = c.person AND tt.channel IS NOT NULL
                  AND tt.t <= c.t AND tt.t >= c.t - {lookback}),
    kept AS (SELECT * FROM path WHERE previous IS NULL OR previous <> channel),
    numbered AS (SELECT *, row_number() OVER (PARTITION BY event_id ORDER BY t) AS i,
                           count(*) OVER (PARTITION BY event_id) AS n,
                           pow(2, -(ct - t) / {half_life}::DOUBLE) AS decay
                 FROM kept),
    shares AS (SELECT event_id, channel, rev,
                 CASE WHEN i = 1 THEN 1 ELSE 0 END::DOUBLE AS first_touch,
                 CASE WHEN i = n THEN 1 ELSE 0 END::DOUBLE AS last_touch,
                 1 / n::DOUBLE AS linear,
                 CASE WHEN n = 1 THEN 1::DOUBLE WHEN n = 2 THEN 0.5::DOUBLE WHEN i = 1 OR i = n THEN 0.4::DOUBLE
                      ELSE 0.2::DOUBLE / (n - 2) END AS position_based,
                 decay / sum(decay) OVER (PARTITION BY event_id) AS time_decay
               FROM numbered)"""
    unattributed = rows(f"""{base} SELECT count(*), coalesce(sum(rev), 0)::DOUBLE FROM conv
        WHERE event_id NOT IN (SELECT event_id FROM kept)""")[0]
    models = {}
    for model in model_names:
        credit = {}
        for channel, conversions, revenue in rows(f"""{base}
                SELECT channel, sum({model}), sum({model} * rev) FROM shares WHERE {model} > 0 GROUP BY channel"""):
            credit[channel] = [conversions, revenue]
        models[model] = credit
    return {"conversions": totals[0], "revenue": totals[1],
            "unattributed": {"conversions": unattributed[0], "revenue": unattributed[1]}, "models": models}


def experiment(name):
    per_person = f"""
    WITH x AS (SELECT person, t, variant FROM ev WHERE name = 'experiment_viewed' AND experiment = '{name}'
               AND variant IS NOT NULL AND t >= {F} AND t < {T}),
    p AS (SELECT person, min(t) AS first, count(DISTINCT variant) AS nv, min(variant) AS variant FROM x GROUP BY person)"""
    multiple = rows(f"{per_person} SELECT count(*) FROM p WHERE nv > 1")[0][0]
    counts = {v: (n, c) for v, n, c in rows(f"""{per_person}
        SELECT variant, count(*), count(*) FILTER (WHERE EXISTS (
            SELECT 1 FROM ev e WHERE e.person = p.person AND e.name = 'purchase_completed' AND e.t >= p.first AND e.t < {T}))
        FROM p WHERE nv = 1 GROUP BY variant""")}
    variants = {}
    nc, cc = counts.get("control", (0, 0))
    pc = cc / nc if nc else 0.0
    for variant, (n, c) in counts.items():
        rate = c / n
        result = {"exposures": n, "conversions": c, "rate": rate}
        if variant != "control" and nc:
            diff = rate - pc
            spread = 1.959963984540054 * math.sqrt(rate * (1 - rate) / n + pc * (1 - pc) / nc)
            pooled = (c + cc) / (n + nc)
            se = math.sqrt(pooled * (1 - pooled) * (1 / n + 1 / nc))
            result.update({"difference": diff, "ci_low": diff - spread, "ci_high": diff + spread,
                           "lift": diff / pc if pc else None,
                           "p_value": math.erfc(abs(diff / se) / math.sqrt(2)) if se > 0 else None})
        variants[variant] = result
    total = sum(n for n, _ in counts.values())
    expected = total / len(counts)
    chi2 = sum((n - expected) ** 2 / expected for n, _ in counts.values())
    df = len(counts) - 1
    # Chi-square tail in closed form for one and two degrees of freedom.
    srm_p = math.erfc(math.sqrt(chi2 / 2)) if df == 1 else math.exp(-chi2 / 2) if df == 2 else None
    return {"multiple": multiple, "variants": variants, "srm": {"chi_square": chi2, "p_value": srm_p}}


if __name__ == "__main__":
    data, params = sys.argv[1], json.loads(sys.argv[2])
    setup(data, params["from_us"], params["to_us"])
    print(json.dumps({
        "events": rows("SELECT count(*) FROM ev")[0][0],
        "funnel": funnel(params["steps"], params["window_us"], params["breakdown"]),
        "retention": retention(),
        "attribution": attribution(params["lookback_us"], params["half_life_us"]),
        "experiment": experiment(params["experiment"]),
    }))
