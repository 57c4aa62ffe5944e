//! `--frame-stats`: frame-time percentiles while an explanation runs, and the
//! time from launch to the first frame, printed to stderr. The UI thread never
//! waits on the worker, so these stay small however long the job is.

use std::time::{Duration, Instant};

/// How often a running summary is printed.
const EVERY: Duration = Duration::from_secs(5);
/// A UI build longer than this is reported on its own line (a 60 Hz frame).
const SLOW: Duration = Duration::from_millis(16);

/// Frame times collected while an explanation runs.
pub struct FrameStats {
    enabled: bool,
    launched: Instant,
    first_frame: Option<Duration>,
    /// UI-building time of each frame while explaining, ms.
    ui_ms: Vec<f64>,
    /// eframe's CPU time of the previous frame (UI + tessellation + paint), ms.
    cpu_ms: Vec<f64>,
    /// Time from the previous frame's start to this one's, ms: the repaint
    /// cadence; it bounds the whole frame (rasteriser and presenting
    /// included, which eframe's CPU time leaves out as vsync wait) only when
    /// repaints follow each other at once.
    interval_ms: Vec<f64>,
    last_start: Option<Instant>,
    /// The UI thread's CPU time from the end of one frame's UI build to the
    /// end of the next one's (the first frame's tessellation, painting and
    /// presenting, then the second's UI build; not time spent waiting), ms.
    thread_ms: Vec<f64>,
    last_thread: Option<Duration>,
    /// This frame's time taking in the worker's events (part of the UI build).
    events: Duration,
    /// When the frames recorded now began.
    since: Instant,
    last_print: Instant,
}

/// The `q`-quantile (0..=1) of `v` by nearest rank; `None` when empty.
pub fn percentile(v: &[f64], q: f64) -> Option<f64> {
    if v.is_empty() {
        return None;
    }
    let mut s = v.to_vec();
    s.sort_by(|a, b| a.total_cmp(b));
    let rank = ((q * s.len() as f64).ceil() as usize).clamp(1, s.len());
    Some(s[rank - 1])
}

impl FrameStats {
    pub fn new(enabled: bool) -> FrameStats {
        let now = Instant::now();
        FrameStats {
            enabled,
            launched: super::launch_time().unwrap_or(now),
            first_frame: None,
            ui_ms: Vec::new(),
            cpu_ms: Vec::new(),
            interval_ms: Vec::new(),
            last_start: None,
            thread_ms: Vec::new(),
            last_thread: None,
            events: Duration::ZERO,
            since: now,
            last_print: now,
        }
    }

    /// The time this frame spent taking in the worker's events.
    pub fn worker_events(&mut self, took: Duration) {
        self.events = took;
    }

    /// Record one frame: the time spent building it and eframe's CPU time of the previous one.
    pub fn frame(&mut self, ui: Duration, cpu_prev: Option<f32>, explaining: bool) {
        if !self.enabled {
            return;
        }
        let start = Instant::now() - ui;
        let previous = self.last_start.replace(start);
        let cpu_now = thread_cpu_time();
        let cpu_before = std::mem::replace(&mut self.last_thread, cpu_now);
        if self.first_frame.is_none() {
            let t = self.launched.elapsed();
            self.first_frame = Some(t);
            eprintln!(
                "frame-stats: first frame {:.0} ms after launch",
                t.as_secs_f64() * 1e3
            );
        }
        if !explaining {
            return;
        }
        if self.ui_ms.is_empty() {
            self.since = start;
        } else {
            if let Some(p) = previous {
                self.interval_ms.push((start - p).as_secs_f64() * 1e3);
            }
            // From the end of the previous frame's UI build to the end of this one's:
            // the previous frame's painting and this frame's UI build.
            if let (Some(a), Some(b)) = (cpu_before, cpu_now) {
                self.thread_ms
                    .push((b.saturating_sub(a)).as_secs_f64() * 1e3);
            }
        }
        self.ui_ms.push(ui.as_secs_f64() * 1e3);
        if ui > SLOW {
            eprintln!(
                "frame-stats: slow frame, UI build {:.1} ms of which {:.1} ms taking in the worker's events",
                ui.as_secs_f64() * 1e3,
                self.events.as_secs_f64() * 1e3
            );
        }
        if let Some(c) = cpu_prev {
            self.cpu_ms.push(c as f64 * 1e3);
        }
        if self.last_print.elapsed() >= EVERY {
            self.print("while explaining");
            self.last_print = Instant::now();
        }
    }

    /// Print the summary of the explanation that just finished (`work_ms`: its
    /// FaceMesh + X-Map + Mery time on the worker) and start afresh.
    pub fn explanation_finished(&mut self, work_ms: f64) {
        if self.enabled && !self.ui_ms.is_empty() {
            self.print(&format!(
                "explanation finished after {:.1} s of worker time",
                work_ms / 1e3
            ));
            self.ui_ms.clear();
            self.cpu_ms.clear();
            self.interval_ms.clear();
            self.thread_ms.clear();
        }
    }

    fn print(&self, what: &str) {
        let f = |v: &[f64], q| percentile(v, q).map_or("-".into(), |x| format!("{x:.2}"));
        let fps = self.ui_ms.len() as f64 / self.since.elapsed().as_secs_f64().max(1e-3);
        eprintln!(
            "frame-stats ({what}): {} frames, {fps:.1}/s; UI build p50 {} ms, p99 {} ms; UI thread CPU per frame p50 {} ms, p99 {} ms, max {} ms; frame CPU (UI+paint, eframe's clock) p50 {} ms, p99 {} ms, max {} ms; frame to frame p50 {} ms, p99 {} ms",
            self.ui_ms.len(),
            f(&self.ui_ms, 0.5),
            f(&self.ui_ms, 0.99),
            f(&self.thread_ms, 0.5),
            f(&self.thread_ms, 0.99),
            f(&self.thread_ms, 1.0),
            f(&self.cpu_ms, 0.5),
            f(&self.cpu_ms, 0.99),
            f(&self.cpu_ms, 1.0),
            f(&self.interval_ms, 0.5),
            f(&self.interval_ms, 0.99),
        );
    }
}

/// CPU time the calling thread has used (Linux: `CLOCK_THREAD_CPUTIME_ID`);
/// unlike a clock on the wall it does not grow while the thread waits or
/// other processes run. `None` elsewhere or on failure.
fn thread_cpu_time() -> Option<Duration> {
    #[cfg(all(target_os = "linux", target_pointer_width = "64"))]
    {
        #[repr(C)]
        struct Timespec {
            sec: i64,
            nsec: i64,
        }
        unsafe extern "C" {
            fn clock_gettime(clock: i32, tp: *mut Timespec) -> i32;
        }
        const CLOCK_THREAD_CPUTIME_ID: i32 = 3;
        let mut t = Timespec { sec: 0, nsec: 0 };
        // SAFETY: a plain system call writing into a local struct of the kernel's layout (64-bit Linux).
        if unsafe { clock_gettime(CLOCK_THREAD_CPUTIME_ID, &mut t) } == 0 {
            return Some(Duration::new(t.sec as u64, t.nsec as u32));
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::{percentile, thread_cpu_time};
    use std::time::{Duration, Instant};

    #[test]
    #[cfg(all(target_os = "linux", target_pointer_width = "64"))]
    fn thread_cpu_time_counts_work_not_sleep() {
        let a = thread_cpu_time().unwrap();
        std::thread::sleep(Duration::from_millis(50));
        let b = thread_cpu_time().unwrap();
        assert!(
            b - a < Duration::from_millis(20),
            "sleeping used {:?} of CPU",
            b - a
        );
        let t = Instant::now();
        let mut x = 0u64;
        while t.elapsed() < Duration::from_millis(30) {
            x = std::hint::black_box(x.wrapping_add(1));
        }
        let c = thread_cpu_time().unwrap();
        assert!(
            c - b >= Duration::from_millis(5),
            "spinning used only {:?} of CPU",
            c - b
        );
    }

    #[test]
    fn nearest_rank_percentiles() {
        let v: Vec<f64> = (1..=100).map(f64::from).collect();
        assert_eq!(percentile(&v, 0.5), Some(50.0));
        assert_eq!(percentile(&v, 0.99), Some(99.0));
        assert_eq!(percentile(&v, 1.0), Some(100.0));
        assert_eq!(percentile(&[3.0, 1.0, 2.0], 0.5), Some(2.0));
        assert_eq!(percentile(&[], 0.5), None);
    }
}
