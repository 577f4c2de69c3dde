"""One analytics query in DuckDB, timed, for the benchmark (one process per query).

Usage: bench.py DATA_DIR QUERY FROM_US TO_US  with QUERY funnel | retention | attribution
Prints {"seconds": wall time of setup + query, "peak_kb": peak RSS of this process, "result": ...}.
"""

import json
import resource
import sys
import time

started = time.perf_counter()
import agreement as a  # noqa: E402  (the same independent SQL as the agreement test)

data, query, start, end = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
a.con.execute("SET threads = 2")
begin = time.perf_counter()
a.setup(data, start, end, materialize=False)
DAY = 86_400_000_000
if query == "funnel":
    result = a.funnel(["view_product", "add_to_cart", "checkout_started", "purchase_completed"], DAY, "surface",
                      counts_only=True)
elif query == "retention":
    result = {"cohorts": len(a.retention())}
elif query == "attribution":
    r = a.attribution(30 * DAY, 7 * DAY, model_names=("linear",))
    result = {"conversions": r["conversions"], "channels": len(r["models"]["linear"])}
else:
    raise SystemExit(f"unknown query {query}")
seconds = time.perf_counter() - begin
print(json.dumps({"seconds": seconds, "import_seconds": begin - started,
                  "peak_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, "result": result}))
