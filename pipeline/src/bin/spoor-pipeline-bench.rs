//! The pipeline benchmark: generated events through log → dedupe → sessionize → Parquet +
//! aggregates, beside DuckDB doing the same job on the same machine in the same run.
//!
//! ```text
//! spoor-pipeline-bench [--records N] [--people N] [--days D] [--visit-events N] [--threads N] [--dir D] [--python PATH]
//! spoor-pipeline-bench consume --dir D [--threads N] [--range-records N]   # one pipeline run; prints JSON
//! spoor-pipeline-bench gen --dir D --records N [--days D] [--visit-events N] # only write a log
//! spoor-pipeline-bench parse --dir D   # only parse the log's records, on one thread; prints JSON
//! spoor-pipeline-bench encode --dir D  # only encode D/raw's rows again as the sink does, on one thread; prints JSON
//! ```
//!
//! `--visit-events` is the mean number of events of one visit (default 8; 1 makes every event
//! a random person's, so nearly every event is a session of its own).
//!
//! Writes are to `--dir` (default: a temporary folder); the log and the NDJSON
//! copy for DuckDB are written before the clocks start.
#![cfg_attr(not(test), warn(clippy::unwrap_used, clippy::expect_used))]

use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

/// The allocator `spoor` itself runs the pipeline with (see `cli/src/main.rs`).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use parquet::arrow::ArrowWriter;
use spoor_log::{EventLog, LogOptions, LogReader};
use spoor_pipeline::range_file;
use spoor_pipeline::sink::{parquet_file, raw};
use spoor_pipeline::synth::{Synth, SynthOptions};
use spoor_pipeline::{PipelineConfig, Runner};

struct Args {
    mode: String,
    records: u64,
    people: u64,
    days: f64,
    visit_events: u64,
    threads: usize,
    range_records: Option<usize>,
    dir: Option<PathBuf>,
    python: Option<PathBuf>,
}

fn parse_args() -> Result<Args, String> {
    let mut args = Args {
        mode: "all".into(),
        records: 10_000_000,
        people: 200_000,
        days: 7.0,
        visit_events: 8,
        threads: std::thread::available_parallelism().map_or(2, |n| n.get()),
        range_records: None,
        dir: None,
        python: None,
    };
    let mut it = std::env::args().skip(1);
    while let Some(a) = it.next() {
        let mut value = || it.next().ok_or_else(|| format!("{a} needs a value"));
        match a.as_str() {
            "consume" | "gen" | "parse" | "encode" | "all" => args.mode = a.clone(),
            "--records" => {
                args.records = value()?.parse().map_err(|e| format!("--records: {e}"))?
            }
            "--people" => args.people = value()?.parse().map_err(|e| format!("--people: {e}"))?,
            "--days" => args.days = value()?.parse().map_err(|e| format!("--days: {e}"))?,
            "--visit-events" => {
                args.visit_events = value()?
                    .parse()
                    .map_err(|e| format!("--visit-events: {e}"))?
            }
            "--threads" => {
                args.threads = value()?.parse().map_err(|e| format!("--threads: {e}"))?
            }
            "--range-records" => {
                args.range_records = Some(
                    value()?
                        .parse()
                        .map_err(|e| format!("--range-records: {e}"))?,
                )
            }
            "--dir" => args.dir = Some(PathBuf::from(value()?)),
            "--python" => args.python = Some(PathBuf::from(value()?)),
            other => return Err(format!("unknown argument {other}")),
        }
    }
    Ok(args)
}

fn main() {
    let result = parse_args().and_then(|args| match args.mode.as_str() {
        "parse" => {
            let dir = args.dir.clone().ok_or("parse needs --dir")?;
            parse_only(&dir)
        }
        "encode" => encode_only(args.dir.as_deref().ok_or("encode needs --dir")?),
        "gen" => {
            let dir = args.dir.clone().ok_or("gen needs --dir")?;
            generate(&dir, &args)
                .map(|bytes| println!("wrote {} records, {bytes} bytes", args.records))
        }
        "consume" => consume(
            args.dir.as_deref().ok_or("consume needs --dir")?,
            args.threads,
            args.range_records,
        ),
        _ => run_all(&args),
    });
    if let Err(e) = result {
        eprintln!("spoor-pipeline-bench: {e}");
        std::process::exit(1);
    }
}

/// Writes the generated records to `dir/log` as the relay would; returns the payload bytes.
fn generate(dir: &Path, args: &Args) -> Result<u64, String> {
    let mut log = EventLog::open(
        &dir.join("log"),
        LogOptions {
            fsync: false,
            ..LogOptions::default()
        },
    )
    .map_err(|e| e.to_string())?;
    let synth = Synth::new(SynthOptions {
        records: args.records,
        people: args.people,
        span_ms: (args.days * 24.0 * 3_600_000.0) as i64,
        visit_events: args.visit_events.max(1),
        ..SynthOptions::default()
    });
    let mut bytes = 0u64;
    let mut chunk: Vec<Vec<u8>> = Vec::with_capacity(10_000);
    for event in synth {
        let payload = serde_json::to_vec(&event).map_err(|e| e.to_string())?;
        bytes += payload.len() as u64;
        chunk.push(payload);
        if chunk.len() == 10_000 {
            log.append(&chunk).map_err(|e| e.to_string())?;
            chunk.clear();
        }
    }
    log.append(&chunk).map_err(|e| e.to_string())?;
    drop(log);
    // Make the log durable once, as the relay's fsyncs would have.
    let mut log =
        EventLog::open(&dir.join("log"), LogOptions::default()).map_err(|e| e.to_string())?;
    log.sync().map_err(|e| e.to_string())?;
    Ok(bytes)
}

/// Peak resident memory of this process in KiB (VmHWM).
fn peak_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1).and_then(|v| v.parse().ok()))
        })
        .unwrap_or(0)
}

/// CPU time of this process so far (user + system, all threads), in seconds: fields 14 and 15
/// of `/proc/self/stat`, in the kernel's fixed 100 ticks per second (`USER_HZ`).
fn cpu_seconds() -> f64 {
    let Ok(stat) = std::fs::read_to_string("/proc/self/stat") else {
        return 0.0;
    };
    // Fields after the command name, which is in parentheses and may hold spaces.
    let after_name = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
    let ticks: u64 = after_name
        .split_whitespace()
        .skip(11)
        .take(2)
        .filter_map(|v| v.parse::<u64>().ok())
        .sum();
    ticks as f64 / 100.0
}

/// One pipeline run over `dir/log`; prints a JSON line.
fn consume(dir: &Path, threads: usize, range_records: Option<usize>) -> Result<(), String> {
    let defaults = PipelineConfig::default();
    let config = PipelineConfig {
        threads,
        max_batch_records: range_records.unwrap_or(defaults.max_batch_records),
        ..defaults
    };
    let start = Instant::now();
    let mut runner = Runner::open(dir, config).map_err(|e| e.to_string())?;
    runner.run_to_end(|_| {}).map_err(|e| e.to_string())?;
    let seconds = start.elapsed().as_secs_f64();
    let m = runner.metrics();
    println!(
        "{}",
        serde_json::json!({
            "seconds": seconds,
            "records": m.records,
            "rows": m.events,
            "duplicates": m.duplicates,
            "late": m.late_events,
            "sessions_closed": m.sessions_closed,
            "peak_kib": peak_kib(),
            "cpu_seconds": cpu_seconds(),
            "dedupe_index_bytes": runner.dedupe_memory_bytes(),
            "phase_seconds": runner.phase_seconds(),
        })
    );
    Ok(())
}

/// Parses every record of `dir`'s log on this thread, timing the parse alone (records are read
/// 40,000 at a time beforehand).
fn parse_only(dir: &Path) -> Result<(), String> {
    let columns = spoor_pipeline::registry::TypedColumns::embedded().map_err(|e| e.to_string())?;
    let mut reader = LogReader::open(&dir.join("log"), 0).map_err(|e| e.to_string())?;
    let (mut records, mut parsed, mut seconds) = (0u64, 0u64, 0f64);
    let mut chunk: Vec<Vec<u8>> = Vec::with_capacity(40_000);
    loop {
        chunk.clear();
        while chunk.len() < 40_000 {
            match reader.next_record().map_err(|e| e.to_string())? {
                Some((_, p)) => chunk.push(p),
                None => break,
            }
        }
        if chunk.is_empty() {
            break;
        }
        let start = Instant::now();
        for (i, r) in chunk.iter().enumerate() {
            parsed += u64::from(spoor_pipeline::event::parse(i as u64, r, &columns).is_ok());
        }
        seconds += start.elapsed().as_secs_f64();
        records += chunk.len() as u64;
    }
    println!(
        "{}",
        serde_json::json!({
            "records": records,
            "parsed": parsed,
            "seconds": seconds,
            "us_per_record": seconds * 1e6 / records.max(1) as f64,
        })
    );
    Ok(())
}

/// Encodes the rows of every Parquet file under `dir/raw` again, into memory, with the settings
/// the raw sink writes them with, on this thread: the cost of the output format alone. Only the
/// encoding is timed (each file is read first).
fn encode_only(dir: &Path) -> Result<(), String> {
    let mut files = Vec::new();
    for folder in range_file::walk_dirs(&dir.join("raw")).map_err(|e| e.to_string())? {
        let listed = range_file::list(&folder).map_err(|e| e.to_string())?;
        files.extend(listed.into_iter().map(|f| f.path));
    }
    let level = PipelineConfig::default().zstd_level;
    let (mut rows, mut bytes, mut seconds) = (0usize, 0usize, 0f64);
    for path in &files {
        let batches = parquet_file::read(path).map_err(|e| e.to_string())?;
        let Some(schema) = batches.first().map(|b| b.schema()) else {
            continue;
        };
        let start = Instant::now();
        let props = raw::file_properties(&batches, level);
        let mut writer =
            ArrowWriter::try_new(Vec::new(), schema, Some(props)).map_err(|e| e.to_string())?;
        for batch in &batches {
            writer.write(batch).map_err(|e| e.to_string())?;
        }
        let out = writer.into_inner().map_err(|e| e.to_string())?;
        seconds += start.elapsed().as_secs_f64();
        rows += batches.iter().map(|b| b.num_rows()).sum::<usize>();
        bytes += out.len();
    }
    println!(
        "{}",
        serde_json::json!({
            "files": files.len(),
            "rows": rows,
            "bytes": bytes,
            "seconds": seconds,
            "us_per_row": seconds * 1e6 / rows.max(1) as f64,
        })
    );
    Ok(())
}

fn run_child(cmd: &mut Command) -> Result<serde_json::Value, String> {
    let out = cmd.output().map_err(|e| format!("running {cmd:?}: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "{cmd:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    let text = String::from_utf8_lossy(&out.stdout);
    let line = text.lines().last().unwrap_or("");
    serde_json::from_str(line).map_err(|e| format!("reading {line:?}: {e}"))
}

fn dir_bytes(dir: &Path) -> u64 {
    let mut total = 0;
    if let Ok(entries) = std::fs::read_dir(dir) {
        for e in entries.flatten() {
            match e.metadata() {
                Ok(m) if m.is_dir() => total += dir_bytes(&e.path()),
                Ok(m) => total += m.len(),
                Err(_) => {}
            }
        }
    }
    total
}

fn run_all(args: &Args) -> Result<(), String> {
    let repo = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let python = args
        .python
        .clone()
        .unwrap_or_else(|| repo.join(".venv/bin/python"));
    if !python.exists() {
        return Err(format!(
            "{} is missing: run .ci/setup-pipeline.sh",
            python.display()
        ));
    }
    let tmp;
    let dir = match &args.dir {
        Some(d) => d.clone(),
        None => {
            tmp = std::env::temp_dir().join(format!("spoor-pipeline-bench-{}", std::process::id()));
            tmp.clone()
        }
    };
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    let spoor_dir = dir.join("spoor");
    eprintln!(
        "generating {} records into {}",
        args.records,
        spoor_dir.display()
    );
    let bytes = generate(&spoor_dir, args)?;
    eprintln!("exporting the log as NDJSON for DuckDB");
    let ndjson = dir.join("events.ndjson");
    {
        let mut out = BufWriter::new(std::fs::File::create(&ndjson).map_err(|e| e.to_string())?);
        let mut reader = LogReader::open(&spoor_dir.join("log"), 0).map_err(|e| e.to_string())?;
        while let Some((_, p)) = reader.next_record().map_err(|e| e.to_string())? {
            out.write_all(&p)
                .and_then(|()| out.write_all(b"\n"))
                .map_err(|e| e.to_string())?;
        }
        out.flush().map_err(|e| e.to_string())?;
    }
    let exe = std::env::current_exe().map_err(|e| e.to_string())?;
    eprintln!("spoor pipeline ...");
    let spoor = run_child(
        Command::new(&exe)
            .arg("consume")
            .arg("--dir")
            .arg(&spoor_dir)
            .args(["--threads", &args.threads.to_string()]),
    )?;
    eprintln!("duckdb ...");
    let duck_dir = dir.join("duckdb");
    std::fs::create_dir_all(&duck_dir).map_err(|e| e.to_string())?;
    let duck = run_child(
        Command::new(&python)
            .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("bench/duckdb_job.py"))
            .arg(&ndjson)
            .arg(&duck_dir)
            .arg(args.threads.to_string()),
    )?;
    let num = |v: &serde_json::Value, k: &str| v[k].as_f64().unwrap_or(0.0);
    let records = args.records as f64;
    println!("| engine | seconds | events/s | peak memory | rows written | output size |");
    println!("|---|---|---|---|---|---|");
    println!(
        "| spoor-pipeline | {:.1} | {:.0} | {:.0} MiB | {} | {:.0} MiB |",
        num(&spoor, "seconds"),
        records / num(&spoor, "seconds"),
        num(&spoor, "peak_kib") / 1024.0,
        spoor["rows"],
        (dir_bytes(&spoor_dir.join("raw")) + dir_bytes(&spoor_dir.join("tables"))) as f64
            / 1048576.0
    );
    println!(
        "| DuckDB {} | {:.1} | {:.0} | {:.0} MiB | {} | {:.0} MiB |",
        duckdb_version(&python),
        num(&duck, "seconds"),
        records / num(&duck, "seconds"),
        num(&duck, "peak_kib") / 1024.0,
        duck["rows"],
        dir_bytes(&duck_dir) as f64 / 1048576.0
    );
    println!(
        "\n{} records, {:.0} bytes each on average, {} people, visits of {} events on average, \
         {} duplicates, {} late, {} sessions; dedupe index {:.0} MiB; threads {}",
        args.records,
        bytes as f64 / records,
        args.people,
        args.visit_events,
        spoor["duplicates"],
        spoor["late"],
        spoor["sessions_closed"],
        num(&spoor, "dedupe_index_bytes") / 1048576.0,
        args.threads
    );
    let phases = &spoor["phase_seconds"];
    println!(
        "spoor-pipeline's thread, seconds: read {:.1}, parse {:.1}, stages {:.1}, outputs {:.1}, \
         waiting for the writer {:.1}, commits {:.1}, waiting for compaction {:.1}",
        num(phases, "read"),
        num(phases, "parse"),
        num(phases, "stages"),
        num(phases, "outputs"),
        num(phases, "hand_over"),
        num(phases, "commit"),
        num(phases, "compaction_wait"),
    );
    let steps = &duck["steps"];
    println!(
        "DuckDB's steps, seconds: load {:.1}, dedupe {:.1}, sessionize {:.1}, raw Parquet {:.1}, \
         realtime {:.1}. CPU time (user + system): spoor-pipeline {:.1} s, DuckDB {:.1} s",
        num(steps, "load"),
        num(steps, "dedupe"),
        num(steps, "sessionize"),
        num(steps, "raw_parquet"),
        num(steps, "realtime"),
        num(&spoor, "cpu_seconds"),
        num(&duck, "cpu_seconds"),
    );
    if args.dir.is_none() {
        let _ = std::fs::remove_dir_all(&dir);
    }
    Ok(())
}

fn duckdb_version(python: &Path) -> String {
    Command::new(python)
        .args(["-c", "import duckdb; print(duckdb.__version__)"])
        .output()
        .ok()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_default()
}
