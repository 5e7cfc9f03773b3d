//! Green / amber / red per metric, with configurable bands.
//!
//! Colour is never the only signal: every [`Level`] has a text label shown beside it.

use super::format;

/// How a value compares to its metric's band.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    Good,
    Warn,
    Bad,
    /// No value (a zero denominator, no data yet).
    Unknown,
}

impl Level {
    /// The CSS class suffix and `data-level` value.
    pub fn key(self) -> &'static str {
        match self {
            Self::Good => "good",
            Self::Warn => "warn",
            Self::Bad => "bad",
            Self::Unknown => "unknown",
        }
    }

    /// The text shown next to the colour.
    pub fn label(self) -> &'static str {
        match self {
            Self::Good => "OK",
            Self::Warn => "Warning",
            Self::Bad => "Critical",
            Self::Unknown => "No data",
        }
    }

    /// The worst of `levels` (critical, then warning, then OK): what a group of numbers,
    /// such as a workflow's card, is coloured by. Unknown only when no number has a value.
    pub fn worst(levels: impl IntoIterator<Item = Level>) -> Level {
        let rank = |l: Level| match l {
            Self::Unknown => 0,
            Self::Good => 1,
            Self::Warn => 2,
            Self::Bad => 3,
        };
        levels.into_iter().fold(Self::Unknown, |worst, l| if rank(l) > rank(worst) { l } else { worst })
    }
}

/// Which way is better for a metric.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    HigherIsBetter,
    LowerIsBetter,
}

/// Two limits: at or past `good` the metric is green, at or past `warn` amber, else red.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Band {
    pub good: f64,
    pub warn: f64,
}

impl Band {
    pub const fn new(good: f64, warn: f64) -> Self {
        Self { good, warn }
    }

    /// Classifies `value` (None is [`Level::Unknown`]).
    pub fn classify(&self, direction: Direction, value: Option<f64>) -> Level {
        let Some(v) = value.filter(|v| v.is_finite()) else { return Level::Unknown };
        match direction {
            Direction::HigherIsBetter if v >= self.good => Level::Good,
            Direction::HigherIsBetter if v >= self.warn => Level::Warn,
            Direction::LowerIsBetter if v <= self.good => Level::Good,
            Direction::LowerIsBetter if v <= self.warn => Level::Warn,
            _ => Level::Bad,
        }
    }

    /// Whether the limits are in the right order for `direction` (and finite, non-negative).
    pub fn is_valid(&self, direction: Direction) -> bool {
        let finite = self.good.is_finite() && self.warn.is_finite() && self.good >= 0.0 && self.warn >= 0.0;
        finite
            && match direction {
                Direction::HigherIsBetter => self.good >= self.warn,
                Direction::LowerIsBetter => self.good <= self.warn,
            }
    }

    /// `good,warn` as in the URL (one decimal at most).
    pub fn to_param(self) -> String {
        format!("{},{}", format::tenths(self.good), format::tenths(self.warn))
    }

    /// Reads `good,warn`, rounded to one decimal; None when malformed or in the wrong order
    /// for `direction`.
    pub fn parse(raw: &str, direction: Direction) -> Option<Self> {
        let (g, w) = raw.split_once(',')?;
        let band = Self { good: parse_limit(g)?, warn: parse_limit(w)? };
        band.is_valid(direction).then_some(band)
    }
}

/// A non-negative decimal (`75`, `75.5`, `.5`), rounded to one decimal. Parsed by hand:
/// the standard float parser brings large tables into the wasm.
pub fn parse_limit(raw: &str) -> Option<f64> {
    let (whole, fraction) = raw.trim().split_once('.').unwrap_or((raw.trim(), ""));
    let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if (whole.is_empty() && fraction.is_empty()) || !digits(whole) || !digits(fraction) || whole.len() > 9 {
        return None;
    }
    let whole: u64 = if whole.is_empty() { 0 } else { whole.parse().ok()? };
    let mut tenths = whole * 10;
    let mut rest = fraction.bytes().map(|b| u64::from(b - b'0'));
    tenths += rest.next().unwrap_or(0);
    if rest.next().is_some_and(|d| d >= 5) {
        tenths += 1;
    }
    Some(tenths as f64 / 10.0)
}

/// A metric with a band on the wall.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Metric {
    /// Service level, in percent.
    ServiceLevel,
    /// Abandonment, in percent.
    Abandonment,
    /// Longest waiting task, in seconds.
    LongestWait,
    /// Pending tasks.
    Pending,
    /// Waiting tasks per available agent (the queues wall).
    Ratio,
    /// An agent's time in its current activity, in seconds (the agent board's highlights).
    TimeInState,
}

impl Metric {
    pub const ALL: [Metric; 6] =
        [Self::ServiceLevel, Self::Abandonment, Self::LongestWait, Self::Pending, Self::Ratio, Self::TimeInState];

    pub fn direction(self) -> Direction {
        match self {
            Self::ServiceLevel => Direction::HigherIsBetter,
            _ => Direction::LowerIsBetter,
        }
    }

    /// Its URL parameter.
    pub fn param(self) -> &'static str {
        match self {
            Self::ServiceLevel => "sl",
            Self::Abandonment => "ab",
            Self::LongestWait => "lw",
            Self::Pending => "pd",
            Self::Ratio => "rt",
            Self::TimeInState => "tis",
        }
    }

    pub fn title(self) -> &'static str {
        match self {
            Self::ServiceLevel => "Service level (%)",
            Self::Abandonment => "Abandonment (%)",
            Self::LongestWait => "Longest waiting (s)",
            Self::Pending => "Pending tasks",
            Self::Ratio => "Waiting per available agent",
            Self::TimeInState => "Agent time in state (s)",
        }
    }
}

/// The bands of every metric (part of the URL state).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Levels {
    pub service_level: Band,
    pub abandonment: Band,
    pub longest_wait: Band,
    pub pending: Band,
    pub ratio: Band,
    pub time_in_state: Band,
}

impl Default for Levels {
    fn default() -> Self {
        Self {
            service_level: Band::new(80.0, 60.0),
            abandonment: Band::new(5.0, 10.0),
            longest_wait: Band::new(60.0, 180.0),
            pending: Band::new(5.0, 15.0),
            ratio: Band::new(1.0, 2.0),
            time_in_state: Band::new(600.0, 1800.0),
        }
    }
}

impl Levels {
    pub fn band(&self, metric: Metric) -> Band {
        match metric {
            Metric::ServiceLevel => self.service_level,
            Metric::Abandonment => self.abandonment,
            Metric::LongestWait => self.longest_wait,
            Metric::Pending => self.pending,
            Metric::Ratio => self.ratio,
            Metric::TimeInState => self.time_in_state,
        }
    }

    pub fn band_mut(&mut self, metric: Metric) -> &mut Band {
        match metric {
            Metric::ServiceLevel => &mut self.service_level,
            Metric::Abandonment => &mut self.abandonment,
            Metric::LongestWait => &mut self.longest_wait,
            Metric::Pending => &mut self.pending,
            Metric::Ratio => &mut self.ratio,
            Metric::TimeInState => &mut self.time_in_state,
        }
    }

    /// Sets the green (`good`) or amber (`warn`) limit of `metric`, or both; a limit not
    /// given stays. The message says what is wrong (the band is then unchanged).
    pub fn set_limit(&mut self, metric: Metric, good: Option<f64>, warn: Option<f64>) -> Result<(), String> {
        let current = self.band(metric);
        let band = Band::new(good.unwrap_or(current.good), warn.unwrap_or(current.warn));
        if !band.is_valid(metric.direction()) {
            return Err(format!("{}: the amber limit must be beyond the green one", metric.title()));
        }
        *self.band_mut(metric) = band;
        Ok(())
    }

    /// Classifies a value of `metric` in its own unit (percent for shares, seconds, count).
    pub fn classify(&self, metric: Metric, value: Option<f64>) -> Level {
        self.band(metric).classify(metric.direction(), value)
    }

    /// Classifies a share in 0..=1 of a percent metric.
    pub fn classify_share(&self, metric: Metric, share: Option<f64>) -> Level {
        self.classify(metric, share.map(|s| s * 100.0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn higher_is_better() {
        let b = Band::new(80.0, 60.0);
        let d = Direction::HigherIsBetter;
        assert_eq!(b.classify(d, Some(95.0)), Level::Good);
        assert_eq!(b.classify(d, Some(80.0)), Level::Good);
        assert_eq!(b.classify(d, Some(79.9)), Level::Warn);
        assert_eq!(b.classify(d, Some(60.0)), Level::Warn);
        assert_eq!(b.classify(d, Some(59.0)), Level::Bad);
        assert_eq!(b.classify(d, None), Level::Unknown);
        assert_eq!(b.classify(d, Some(f64::NAN)), Level::Unknown);
    }

    #[test]
    fn lower_is_better() {
        let b = Band::new(60.0, 180.0);
        let d = Direction::LowerIsBetter;
        assert_eq!(b.classify(d, Some(0.0)), Level::Good);
        assert_eq!(b.classify(d, Some(60.0)), Level::Good);
        assert_eq!(b.classify(d, Some(61.0)), Level::Warn);
        assert_eq!(b.classify(d, Some(180.0)), Level::Warn);
        assert_eq!(b.classify(d, Some(181.0)), Level::Bad);
    }

    #[test]
    fn bands_parse_and_print() {
        assert_eq!(Band::parse("90,75.54", Direction::HigherIsBetter).map(Band::to_param).as_deref(), Some("90,75.5"));
        let b = Band::parse("90,75.5", Direction::HigherIsBetter).expect("valid");
        assert_eq!(b, Band::new(90.0, 75.5));
        assert_eq!(b.to_param(), "90,75.5");
        assert_eq!(Band::parse("75,90", Direction::HigherIsBetter), None, "wrong order");
        assert_eq!(Band::parse("5,10", Direction::LowerIsBetter), Some(Band::new(5.0, 10.0)));
        assert_eq!(Band::parse("-1,10", Direction::LowerIsBetter), None);
        assert_eq!(parse_limit(" 12.25 "), Some(12.3));
        assert_eq!(parse_limit(".5"), Some(0.5));
        assert_eq!(parse_limit("7."), Some(7.0));
        for bad in ["", ".", "-1", "1e3", "1.2.3", "+4", "1234567890"] {
            assert_eq!(parse_limit(bad), None, "{bad}");
        }
        for bad in ["", "5", "a,b", "5,10,15", "inf,10"] {
            assert_eq!(Band::parse(bad, Direction::LowerIsBetter), None, "{bad}");
        }
    }

    #[test]
    fn limits_set_one_at_a_time() {
        let mut levels = Levels::default();
        assert_eq!(levels.set_limit(Metric::ServiceLevel, Some(90.0), None), Ok(()));
        assert_eq!(levels.service_level, Band::new(90.0, 60.0));
        assert_eq!(levels.set_limit(Metric::Pending, None, Some(20.0)), Ok(()));
        assert_eq!(levels.pending, Band::new(5.0, 20.0));
        let e = levels.set_limit(Metric::ServiceLevel, None, Some(95.0));
        assert_eq!(e, Err("Service level (%): the amber limit must be beyond the green one".to_owned()));
        assert_eq!(levels.service_level, Band::new(90.0, 60.0), "unchanged");
        assert_eq!(levels.set_limit(Metric::Pending, None, None), Ok(()), "nothing readable given: unchanged");
        assert_eq!(
            levels,
            Levels { service_level: Band::new(90.0, 60.0), pending: Band::new(5.0, 20.0), ..Default::default() }
        );
    }

    #[test]
    fn the_worst_level_wins() {
        use Level::*;
        assert_eq!(Level::worst([Good, Bad, Warn]), Bad);
        assert_eq!(Level::worst([Good, Unknown, Warn]), Warn);
        assert_eq!(Level::worst([Unknown, Good]), Good, "a missing number does not hide the others");
        assert_eq!(Level::worst([Unknown, Unknown]), Unknown);
        assert_eq!(Level::worst([]), Unknown);
    }

    #[test]
    fn shares_are_classified_in_percent() {
        let levels = Levels::default();
        assert_eq!(levels.classify_share(Metric::ServiceLevel, Some(0.85)), Level::Good);
        assert_eq!(levels.classify_share(Metric::Abandonment, Some(0.07)), Level::Warn);
        assert_eq!(levels.classify(Metric::Pending, Some(20.0)), Level::Bad);
        assert_eq!(Level::Bad.label(), "Critical");
        for m in Metric::ALL {
            assert!(levels.band(m).is_valid(m.direction()), "{m:?} default is valid");
        }
    }
}
