//! The HTML reports in a real browser: a run's report and a compare are
//! opened in headless Chromium (`chromium --headless --screenshot`), and the
//! screenshots must show the page and its charts: mostly non-blank, with the
//! charts' own colours painted (Okabe–Ito blue and vermillion for a run's
//! lag and latency; one colour per compared preset).
//!
//! Chromium is found as `$STREAMSIM_CHROMIUM`, or `chromium`, `chromium-browser`
//! or `google-chrome` on the PATH (Debian: `apt-get install chromium`). Without
//! one the test says so and checks nothing, unless `STREAMSIM_REQUIRE_BROWSER=1`
//! (as `.ci/run` sets when Chromium is installed), which makes a missing browser
//! a failure. `STREAMSIM_SCREENSHOTS=DIR` keeps the screenshots there.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn browser() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("STREAMSIM_CHROMIUM") {
        return Some(PathBuf::from(p));
    }
    let path = std::env::var_os("PATH")?;
    for dir in std::env::split_paths(&path) {
        for name in ["chromium", "chromium-browser", "google-chrome"] {
            let p = dir.join(name);
            if p.is_file() {
                return Some(p);
            }
        }
    }
    None
}

fn streamsim(args: &[&str]) {
    let out = Command::new(env!("CARGO_BIN_EXE_streamsim"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("the binary runs");
    assert!(out.status.success(), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
}

/// Screenshots `page` at 1280×`height` into `png`, within 90 s.
fn screenshot(chromium: &Path, page: &Path, png: &Path, height: u32) {
    let profile = png.with_extension("profile");
    let mut child = Command::new(chromium)
        .args(["--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--no-first-run"])
        .arg(format!("--user-data-dir={}", profile.display()))
        .arg(format!("--window-size=1280,{height}"))
        .arg(format!("--screenshot={}", png.display()))
        .arg(format!("file://{}", page.display()))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("chromium starts");
    let start = Instant::now();
    while child.try_wait().expect("chromium runs").is_none() {
        if start.elapsed() > Duration::from_secs(90) {
            let _ = child.kill();
            panic!("chromium took over 90 s on {}", page.display());
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    assert!(png.is_file(), "chromium wrote no screenshot of {}", page.display());
}

/// The screenshot's pixels as RGB.
fn pixels(png: &Path) -> (u32, u32, Vec<[u8; 3]>) {
    let decoder = png::Decoder::new(std::fs::File::open(png).unwrap());
    let mut reader = decoder.read_info().unwrap();
    let mut buf = vec![0; reader.output_buffer_size()];
    let info = reader.next_frame(&mut buf).unwrap();
    let step = info.color_type.samples();
    assert_eq!(info.bit_depth, png::BitDepth::Eight);
    let px = buf[..info.buffer_size()].chunks(step).map(|c| [c[0], c[1], c[2]]).collect();
    (info.width, info.height, px)
}

fn near(p: [u8; 3], c: [u8; 3]) -> bool {
    p.iter().zip(c).all(|(a, b)| a.abs_diff(b) <= 24)
}

const BLUE: [u8; 3] = [0, 114, 178];
const VERMILLION: [u8; 3] = [213, 94, 0];
const GREEN: [u8; 3] = [0, 158, 115];
const ORANGE: [u8; 3] = [230, 159, 0];

/// How many pixels are not white, and how many are near each colour.
fn census(png: &Path, colours: &[[u8; 3]]) -> (f64, Vec<usize>) {
    let (w, h, px) = pixels(png);
    assert_eq!((w, h), (1280, px.len() as u32 / 1280));
    let inked = px.iter().filter(|p| p.iter().any(|&v| v < 235)).count() as f64 / px.len() as f64;
    (inked, colours.iter().map(|&c| px.iter().filter(|&&p| near(p, c)).count()).collect())
}

#[test]
fn reports_render_their_charts_in_a_headless_browser() {
    let Some(chromium) = browser() else {
        assert!(
            std::env::var_os("STREAMSIM_REQUIRE_BROWSER").is_none(),
            "STREAMSIM_REQUIRE_BROWSER is set and no Chromium was found"
        );
        eprintln!("no Chromium (apt-get install chromium, or STREAMSIM_CHROMIUM=PATH): the browser check did not run");
        return;
    };
    let dir = std::env::temp_dir().join(format!("streamsim-browser-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let (report, compare) = (dir.join("report"), dir.join("compare"));
    streamsim(&["run", "scenarios/acks-1-leader-failover.yaml", "--out", report.to_str().unwrap()]);
    streamsim(&["compare", "scenarios/at-least-once.yaml", "--out", compare.to_str().unwrap()]);
    let (report_png, compare_png) = (dir.join("report.png"), dir.join("compare.png"));
    screenshot(&chromium, &report.join("index.html"), &report_png, 2600);
    screenshot(&chromium, &compare.join("index.html"), &compare_png, 2000);
    if let Some(keep) = std::env::var_os("STREAMSIM_SCREENSHOTS") {
        std::fs::create_dir_all(&keep).unwrap();
        std::fs::copy(&report_png, Path::new(&keep).join("report.png")).unwrap();
        std::fs::copy(&compare_png, Path::new(&keep).join("compare.png")).unwrap();
    }
    let (inked, n) = census(&report_png, &[BLUE, VERMILLION]);
    assert!(inked > 0.05, "the report page is blank: {:.1}% inked", inked * 100.0);
    assert!(n[0] > 2000 && n[1] > 2000, "the report's charts painted their lines: {n:?} blue, vermillion pixels");
    let (inked, n) = census(&compare_png, &[BLUE, VERMILLION, GREEN, ORANGE]);
    assert!(inked > 0.05, "the compare page is blank: {:.1}% inked", inked * 100.0);
    assert!(n.iter().all(|&c| c > 200), "every compared preset's line painted: {n:?}");
    let _ = std::fs::remove_dir_all(&dir);
}
