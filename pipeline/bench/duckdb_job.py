"""The pipeline's job done by DuckDB, as the benchmark baseline.

Reads the log exported as NDJSON, drops duplicates by (source, eventId),
sessionizes per person with window functions (30-minute gap), and writes
Hive-partitioned, zstd-compressed Parquet by date/hour/event/source, plus
per-minute aggregates. Prints one JSON line with the timings (in all and per
step), the CPU time and the peak memory.

usage: duckdb_job.py EVENTS.ndjson OUT_DIR THREADS
"""

import json
import resource
import sys
import time

import duckdb

src, out, threads = sys.argv[1], sys.argv[2], int(sys.argv[3])
con = duckdb.connect()
con.execute(f"SET threads = {threads}")
con.execute("SET preserve_insertion_order = false")
start = time.time()
con.execute(
    f"""
    CREATE TEMP TABLE events AS
    SELECT * FROM read_json('{src}', format = 'newline_delimited',
        columns = {{eventId: 'VARCHAR', type: 'VARCHAR', eventName: 'VARCHAR', userId: 'VARCHAR',
                   anonymousId: 'VARCHAR', timestamp: 'VARCHAR', receivedAt: 'TIMESTAMPTZ',
                   eventTime: 'TIMESTAMPTZ', source: 'VARCHAR', properties: 'JSON', context: 'JSON'}})
    """
)
loaded = time.time()
steps = {"load": loaded - start}
mark = loaded


def step(name):
    """Records the seconds since the previous step under `name`."""
    global mark
    now = time.time()
    steps[name] = now - mark
    mark = now


con.execute(
    """
    CREATE TEMP TABLE deduped AS
    SELECT * EXCLUDE (rn) FROM (
        SELECT *, row_number() OVER (PARTITION BY source, eventId ORDER BY receivedAt) AS rn FROM events
    ) WHERE rn = 1
    """
)
step("dedupe")
con.execute(
    """
    CREATE TEMP TABLE sessionized AS
    WITH p AS (
        SELECT *, coalesce(userId, anonymousId) AS person_id FROM deduped
    ), g AS (
        SELECT *, CASE WHEN eventTime - lag(eventTime) OVER w > INTERVAL 30 MINUTE
                        OR lag(eventTime) OVER w IS NULL THEN 1 ELSE 0 END AS new_session
        FROM p WINDOW w AS (PARTITION BY person_id ORDER BY eventTime)
    )
    SELECT *, person_id || '-' || sum(new_session) OVER (PARTITION BY person_id ORDER BY eventTime
             ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS session_id
    FROM g
    """
)
step("sessionize")
con.execute(
    f"""
    COPY (
        SELECT eventId AS event_id, eventName AS event_name, type, userId AS user_id,
               anonymousId AS anonymous_id, person_id, session_id, eventTime AS event_time,
               timestamp AS client_timestamp, receivedAt AS received_at, source,
               CAST(properties AS VARCHAR) AS properties, CAST(context AS VARCHAR) AS context,
               properties->>'productId' AS product_id, CAST(properties->>'revenue' AS DOUBLE) AS revenue,
               strftime(eventTime AT TIME ZONE 'UTC', '%Y-%m-%d') AS date,
               strftime(eventTime AT TIME ZONE 'UTC', '%H') AS hour,
               coalesce(eventName, type) AS event
        FROM sessionized
    ) TO '{out}/raw' (FORMAT parquet, COMPRESSION zstd, PARTITION_BY (date, hour, event, source), OVERWRITE_OR_IGNORE)
    """
)
step("raw_parquet")
con.execute(
    f"""
    COPY (
        SELECT date_trunc('minute', eventTime) AS minute, eventName AS event_name, source,
               count(*) AS events, count(DISTINCT person_id) AS persons,
               coalesce(sum(CAST(properties->>'revenue' AS DOUBLE)), 0) AS revenue
        FROM sessionized GROUP BY ALL
    ) TO '{out}/realtime.parquet' (FORMAT parquet, COMPRESSION zstd)
    """
)
step("realtime")
done = time.time()
rows = con.execute("SELECT count(*) FROM deduped").fetchone()[0]
usage = resource.getrusage(resource.RUSAGE_SELF)
print(json.dumps({"seconds": done - start, "steps": steps, "cpu_seconds": usage.ru_utime + usage.ru_stime,
                  "rows": rows, "peak_kib": usage.ru_maxrss}))
