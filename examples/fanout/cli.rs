//! The `fanout` command line (clap), and the one-line error policy for bad values.
//!
//! Bad values (0 fetches, a limit of 0, negative or unparsable durations) are refused by the value
//! parsers here, so `main` only has to print clap's first error line and exit non-zero.

use std::path::PathBuf;

use clap::Parser;

use super::duration::parse_duration;
use super::latency::LatencyModel;

/// Run a million simulated network fetches on magpie and report how close to ideal it came.
///
/// Each fetch waits for a simulated latency with `magpie::time::sleep`, then checksums a 1 KiB
/// "response"; all results are gathered. The report gives wall time against the ideal time, fetches
/// per second, how late each fetch resumed after its deadline, peak memory and runtime counters.
#[derive(Debug, Parser)]
#[command(name = "fanout", version)]
pub struct FanoutArgs {
    /// Number of simulated fetches (tasks) to run; at least 1.
    #[arg(short = 'n', long, value_name = "N", allow_hyphen_values = true, default_value_t = 1_000_000, value_parser = parse_positive_u64)]
    pub fetches: u64,

    /// Latency model: a fixed duration (`1s`, `fixed:250ms`), a uniform range
    /// (`uniform:500ms..1500ms`) or heavy-tailed log-normal with a median and spread of the logarithm
    /// (`lognormal:100ms,1.0`). Units: ns, us, ms, s, m, h.
    #[arg(short, long, value_name = "MODEL", allow_hyphen_values = true, default_value = "1s", value_parser = parse_latency)]
    pub latency: LatencyModel,

    /// At most K fetches in flight at once (an async-lock semaphore); unlimited when absent.
    #[arg(short = 'k', long, value_name = "K", allow_hyphen_values = true, value_parser = parse_positive_usize)]
    pub limit: Option<usize>,

    /// Worker threads of the runtime; defaults to the runtime's default (one per core).
    #[arg(short, long, value_name = "N", value_parser = parse_positive_usize)]
    pub workers: Option<usize>,

    /// Seed of the latency draws, for reproducible runs.
    #[arg(long, value_name = "SEED", default_value_t = 0x5EED)]
    pub seed: u64,

    /// Also write the report as JSON to FILE.
    #[arg(long, value_name = "FILE")]
    pub json: Option<PathBuf>,

    /// Never show the progress bar (it is shown only on a terminal, for runs over two seconds).
    #[arg(short, long)]
    pub quiet: bool,
}

/// Parses an integer that must be at least 1.
pub fn parse_positive_u64(text: &str) -> Result<u64, String> {
    let value: u64 = text
        .trim()
        .parse()
        .map_err(|_| format!("'{text}' is not a whole number"))?;
    if value == 0 {
        return Err("must be at least 1".into());
    }
    Ok(value)
}

/// Parses a count that must be at least 1.
pub fn parse_positive_usize(text: &str) -> Result<usize, String> {
    let value = parse_positive_u64(text)?;
    usize::try_from(value).map_err(|_| format!("'{text}' is too large"))
}

/// Parses a latency model (see [`LatencyModel`]).
pub fn parse_latency(text: &str) -> Result<LatencyModel, String> {
    text.parse()
}

/// Parses a plain duration (see [`parse_duration`]).
pub fn parse_plain_duration(text: &str) -> Result<std::time::Duration, String> {
    parse_duration(text)
}

/// Parses the command line; on `--help`/`--version` prints and returns the success exit code, on a
/// bad argument prints a one-line error and returns exit code 2 (never clap's multi-line report).
pub fn parse_or_exit_code<P: Parser>() -> Result<P, std::process::ExitCode> {
    match P::try_parse() {
        Ok(args) => Ok(args),
        Err(error) if !error.use_stderr() => {
            // --help and --version: clap prints them and they are not failures.
            let _ = error.print();
            Err(std::process::ExitCode::SUCCESS)
        }
        Err(error) => {
            eprintln!("{}", one_line_error(&error));
            Err(std::process::ExitCode::from(2))
        }
    }
}

/// The first line of a clap error, which names the bad value and why.
pub fn one_line_error(error: &clap::Error) -> String {
    error
        .to_string()
        .lines()
        .next()
        .unwrap_or("error: bad arguments")
        .trim()
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;
    use std::time::Duration;

    fn parse(args: &[&str]) -> Result<FanoutArgs, clap::Error> {
        FanoutArgs::try_parse_from(std::iter::once("fanout").chain(args.iter().copied()))
    }

    #[test]
    fn defaults_are_the_seed_pattern() {
        let args = parse(&[]).unwrap();
        assert_eq!(args.fetches, 1_000_000);
        assert_eq!(args.latency, LatencyModel::Fixed(Duration::from_secs(1)));
        assert_eq!(args.limit, None);
        assert_eq!(args.workers, None);
        assert!(args.json.is_none());
        FanoutArgs::command().debug_assert();
    }

    #[test]
    fn every_option_parses() {
        let args = parse(&[
            "-n",
            "2000",
            "--latency",
            "lognormal:10ms,0.5",
            "--limit",
            "100",
            "-w",
            "2",
            "--seed",
            "9",
            "--json",
            "/tmp/x.json",
            "-q",
        ])
        .unwrap();
        assert_eq!(args.fetches, 2000);
        assert_eq!(
            args.latency,
            LatencyModel::LogNormal {
                median: Duration::from_millis(10),
                sigma: 0.5
            }
        );
        assert_eq!(
            (args.limit, args.workers, args.seed, args.quiet),
            (Some(100), Some(2), 9, true)
        );
    }

    #[test]
    fn bad_values_are_one_line_errors() {
        for bad in [
            &["--fetches", "0"][..],
            &["--fetches", "-5"],
            &["--fetches", "many"],
            &["--limit", "0"],
            &["--workers", "0"],
            &["--latency", "-1s"],
            &["--latency", "10"],
            &["--latency", "uniform:2s..1s"],
            &["--bogus"],
        ] {
            let error = parse(bad).expect_err(&format!("{bad:?}"));
            let line = one_line_error(&error);
            assert!(line.starts_with("error:"), "{bad:?}: {line}");
            if bad[0] != "--bogus" {
                assert!(
                    line.contains("invalid value"),
                    "{bad:?} should name the bad value: {line}"
                );
            }
            assert!(!line.contains('\n'));
        }
    }

    #[test]
    fn help_explains_each_option() {
        let help = FanoutArgs::command().render_long_help().to_string();
        for needle in [
            "--fetches",
            "--latency",
            "lognormal",
            "--limit",
            "semaphore",
            "--workers",
            "--seed",
            "--json",
        ] {
            assert!(help.contains(needle), "{needle}");
        }
    }
}
