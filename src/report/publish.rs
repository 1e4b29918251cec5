//! Publishing an output whole or not at all.
//!
//! A report folder is written into a fresh sibling folder and swapped in for
//! its target by rename; a file is written to a fresh sibling file and
//! renamed over its target. So a reader, a crash, a kill or a full disk sees
//! the previous output or the complete new one, never a mix of the two.
//!
//! Staging names are random and created exclusively, so a name or a link
//! planted beside the target cannot redirect the write. Each staging entry is
//! locked (flock) while its writer lives; the next writer to the same target
//! removes the entries whose lock is free, which a killed writer left.
//! Links and special files are never replaced: a FIFO or a character device
//! (a pipe, a terminal, `/dev/null`) is written straight instead.

use std::ffi::{OsStr, OsString};
use std::fs::{self, File};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

/// Why an output was not written.
#[derive(Debug, thiserror::Error)]
pub enum PublishError {
    /// The target is something streamsim must not replace.
    #[error("{why}")]
    Refused { why: String, hint: String },
    #[error(transparent)]
    Io(#[from] io::Error),
}

fn refused(why: impl Into<String>, hint: impl Into<String>) -> PublishError {
    PublishError::Refused { why: why.into(), hint: hint.into() }
}

/// The entries a kind of output folder holds. A folder holding anything
/// else belongs to the user, and is not replaced.
pub struct Layout {
    pub files: &'static [&'static str],
    /// Subfolders, each laid out as `inner`.
    pub folders: &'static [&'static str],
    pub inner: Option<&'static Layout>,
}

/// Checks that a folder of `layout` may replace `target`: nothing is there,
/// or an empty folder, or an earlier folder of the same layout.
pub fn check_folder(target: &Path, layout: &Layout) -> Result<(), PublishError> {
    parent_and_name(target)?;
    let meta = match fs::symlink_metadata(target) {
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
        other => other?,
    };
    if meta.file_type().is_symlink() {
        return Err(refused(
            "it is a symbolic link, and a report folder is replaced whole",
            "give the folder the link points to, or remove the link",
        ));
    }
    if !meta.is_dir() {
        return Err(refused("it exists and is not a folder", "choose another path, or remove that file"));
    }
    if let Some(foreign) = foreign_entry(target, layout)? {
        return Err(refused(
            format!("it holds `{}`, which streamsim does not write there", foreign.display()),
            "the report replaces the whole folder: choose a new or empty one, or move that entry out",
        ));
    }
    Ok(())
}

/// The first entry (in name order) that a folder of `layout` does not hold.
fn foreign_entry(dir: &Path, layout: &Layout) -> io::Result<Option<PathBuf>> {
    let mut entries: Vec<fs::DirEntry> = fs::read_dir(dir)?.collect::<io::Result<_>>()?;
    entries.sort_by_key(|e| e.file_name());
    for entry in entries {
        let name = entry.file_name().to_string_lossy().into_owned();
        // A known name is ours whatever it now is (even a stray folder).
        if layout.files.contains(&name.as_str()) || is_old_staging(&name) {
            continue;
        }
        if entry.file_type()?.is_dir() && layout.folders.contains(&name.as_str()) {
            if let Some(inner) = layout.inner {
                if let Some(f) = foreign_entry(&entry.path(), inner)? {
                    return Ok(Some(Path::new(&name).join(f)));
                }
            }
            continue;
        }
        return Ok(Some(PathBuf::from(name)));
    }
    Ok(None)
}

/// The per-file staging names of earlier streamsim versions (`.summary.json.tmp`).
fn is_old_staging(name: &str) -> bool {
    name.starts_with('.') && (name.ends_with(".tmp") || name.ends_with(".tmp.png"))
}

/// Writes a folder of `layout` with `fill`, in a staging folder beside
/// `target`, and swaps it in. On any error the target is as it was and the
/// staging folder is gone.
pub fn publish_folder(
    target: &Path,
    layout: &Layout,
    fill: impl FnOnce(&Path) -> io::Result<()>,
) -> Result<(), PublishError> {
    check_folder(target, layout)?;
    let staged = StagedDir::new(target)?;
    fill(staged.dir.path())?;
    // The target may have changed while the folder was written.
    check_folder(target, layout)?;
    staged.swap_in()
}

/// The folder a target lives in (`.` for a bare name) and its name.
fn parent_and_name(target: &Path) -> Result<(PathBuf, OsString), PublishError> {
    let name = match target.file_name() {
        Some(n) => n.to_owned(),
        None => return Err(refused("the path names no file or folder", "name it, e.g. `./report`")),
    };
    let parent = match target.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    Ok((parent, name))
}

/// `.NAME.streamsim-`: what every staging entry for `NAME` starts with.
fn staging_prefix(name: &OsStr) -> OsString {
    let mut p = OsString::from(".");
    p.push(name);
    p.push(".streamsim-");
    p
}

fn builder(prefix: &OsStr) -> tempfile::Builder<'_, 'static> {
    let mut b = tempfile::Builder::new();
    b.prefix(prefix).rand_bytes(12);
    b
}

/// tempfile's errors end with the random staging path; the user named the
/// target, which the caller's message names, so the path is cut.
fn untagged(e: io::Error) -> io::Error {
    if e.get_ref().is_none() {
        return e; // an OS error as it is
    }
    let text = e.to_string();
    match text.rfind(" at path \"") {
        Some(i) => io::Error::new(e.kind(), &text[..i]),
        None => e,
    }
}

/// A staging folder, locked while it lives, removed when dropped.
struct StagedDir {
    dir: tempfile::TempDir,
    _lock: Option<File>,
    target: PathBuf,
    parent: PathBuf,
    prefix: OsString,
}

impl StagedDir {
    fn new(target: &Path) -> Result<StagedDir, PublishError> {
        let (parent, name) = parent_and_name(target)?;
        fs::create_dir_all(&parent)?;
        let prefix = staging_prefix(&name);
        remove_debris(&parent, &prefix, target);
        let dir = builder(&prefix).tempdir_in(&parent).map_err(untagged)?;
        let lock = lock(dir.path());
        Ok(StagedDir { dir, _lock: lock, target: target.to_path_buf(), parent, prefix })
    }

    fn swap_in(self) -> Result<(), PublishError> {
        match fs::symlink_metadata(&self.target) {
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                fs::rename(self.dir.path(), &self.target)?;
                let _ = self.dir.keep(); // nothing is left at the staging path
                return Ok(());
            }
            other => other?,
        };
        // After a swap the staging path holds the previous folder, which the
        // drop of `self.dir` removes.
        if exchange(self.dir.path(), &self.target)? {
            return Ok(());
        }
        swap_by_renames(self.dir.path(), &self.target, &self.parent, &self.prefix)?;
        Ok(())
    }
}

/// Atomically swaps two paths; false where the system or filesystem cannot.
#[cfg(any(target_os = "linux", target_os = "android", target_vendor = "apple"))]
fn exchange(a: &Path, b: &Path) -> io::Result<bool> {
    use rustix::fs::{renameat_with, RenameFlags, CWD};
    use rustix::io::Errno;
    match renameat_with(CWD, a, CWD, b, RenameFlags::EXCHANGE) {
        Ok(()) => Ok(true),
        Err(e) if e == Errno::INVAL || e == Errno::NOSYS || e == Errno::NOTSUP => Ok(false),
        Err(e) => Err(e.into()),
    }
}

#[cfg(not(any(target_os = "linux", target_os = "android", target_vendor = "apple")))]
fn exchange(_: &Path, _: &Path) -> io::Result<bool> {
    Ok(false)
}

/// The swap in two renames (old folder aside, new one in), for systems
/// without an atomic exchange. Between the two the target is missing; a
/// writer killed there leaves the old folder at an `old-` staging name,
/// which the next writer puts back (see `remove_debris`).
fn swap_by_renames(staged: &Path, target: &Path, parent: &Path, prefix: &OsStr) -> io::Result<()> {
    let mut old_prefix = prefix.to_owned();
    old_prefix.push("old-");
    // An empty folder with a fresh name, which the rename replaces.
    let holder = builder(&old_prefix).tempdir_in(parent).map_err(untagged)?.keep();
    if let Err(e) = fs::rename(target, &holder) {
        let _ = fs::remove_dir(&holder);
        return Err(e);
    }
    if let Err(e) = fs::rename(staged, target) {
        let _ = fs::rename(&holder, target);
        return Err(e);
    }
    let _ = fs::remove_dir_all(&holder);
    Ok(())
}

/// Holds an exclusive lock on `path` for as long as the file lives.
fn lock(path: &Path) -> Option<File> {
    let f = File::open(path).ok()?;
    f.try_lock().ok()?;
    Some(f)
}

/// Whether no live writer holds the entry at `path` (its lock is free).
fn abandoned(path: &Path) -> bool {
    File::open(path).is_ok_and(|f| f.try_lock().is_ok())
}

/// Removes the staging entries for a target that killed writers left, and
/// puts back a folder a killed two-rename swap had set aside.
fn remove_debris(parent: &Path, prefix: &OsStr, target: &Path) {
    let Ok(entries) = fs::read_dir(parent) else { return };
    let mut old_prefix = prefix.to_owned();
    old_prefix.push("old-");
    for entry in entries.flatten() {
        let name = entry.file_name();
        if !name.as_encoded_bytes().starts_with(prefix.as_encoded_bytes()) || !abandoned(&entry.path()) {
            continue;
        }
        if name.as_encoded_bytes().starts_with(old_prefix.as_encoded_bytes()) && fs::symlink_metadata(target).is_err() {
            let _ = fs::rename(entry.path(), target);
            continue;
        }
        // A link is removed, never followed.
        let _ = match entry.file_type() {
            Ok(t) if t.is_dir() => fs::remove_dir_all(entry.path()),
            _ => fs::remove_file(entry.path()),
        };
    }
}

/// What a file target is now.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum FileKind {
    Missing,
    Regular,
    /// A FIFO or a character device, directly or through a link: written straight.
    Stream,
}

fn file_kind(target: &Path) -> Result<FileKind, PublishError> {
    let meta = match fs::symlink_metadata(target) {
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(FileKind::Missing),
        other => other?,
    };
    let ty = meta.file_type();
    if ty.is_symlink() {
        if fs::metadata(target).is_ok_and(|m| is_stream(&m.file_type())) {
            return Ok(FileKind::Stream);
        }
        return Err(refused(
            "it is a symbolic link, and streamsim does not replace links",
            "give the path the link points to instead",
        ));
    }
    if ty.is_dir() {
        return Err(refused("it is a folder", "give the path of a file, e.g. inside that folder"));
    }
    if ty.is_file() {
        return Ok(FileKind::Regular);
    }
    if is_stream(&ty) {
        return Ok(FileKind::Stream);
    }
    Err(refused("it is a socket or a block device", "give the path of a regular file"))
}

#[cfg(unix)]
fn is_stream(ty: &fs::FileType) -> bool {
    use std::os::unix::fs::FileTypeExt;
    ty.is_fifo() || ty.is_char_device()
}

#[cfg(not(unix))]
fn is_stream(_: &fs::FileType) -> bool {
    false
}

/// A file being written: a staging file renamed over the target by
/// [`FileOutput::commit`], or a FIFO or character device written straight.
/// Dropped without a commit, the staging file is removed.
pub struct FileOutput {
    file: File,
    staged: Option<(tempfile::NamedTempFile, PathBuf)>,
}

impl FileOutput {
    /// Checks the target and opens what will be written. A FIFO blocks here
    /// until a reader opens it.
    pub fn create(target: &Path) -> Result<FileOutput, PublishError> {
        if file_kind(target)? == FileKind::Stream {
            let file = fs::OpenOptions::new().write(true).open(target)?;
            return Ok(FileOutput { file, staged: None });
        }
        let (parent, name) = parent_and_name(target)?;
        let prefix = staging_prefix(&name);
        remove_debris(&parent, &prefix, target);
        let mut b = builder(&prefix);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            // As `File::create` would: readable by others unless the umask says no.
            b.permissions(fs::Permissions::from_mode(0o666));
        }
        let tmp = b.tempfile_in(&parent).map_err(untagged)?;
        let _ = tmp.as_file().try_lock();
        let file = tmp.as_file().try_clone()?;
        Ok(FileOutput { file, staged: Some((tmp, target.to_path_buf())) })
    }

    /// A handle to write through (a clone, so it can be moved into a writer).
    pub fn handle(&self) -> io::Result<File> {
        self.file.try_clone()
    }

    /// Puts the written file in place of the target.
    pub fn commit(self) -> Result<(), PublishError> {
        let Some((tmp, target)) = self.staged else { return Ok(()) };
        // The target may have changed while the file was written.
        if file_kind(&target)? == FileKind::Stream {
            return Err(refused("it became a FIFO or a device while it was written", "write to it again"));
        }
        tmp.persist(&target).map_err(|e| untagged(e.error))?;
        Ok(())
    }
}

/// Writes `bytes` to `target` whole (see [`FileOutput`]).
pub fn publish_file(target: &Path, bytes: &[u8]) -> Result<(), PublishError> {
    let out = FileOutput::create(target)?;
    out.handle()?.write_all(bytes)?;
    out.commit()
}

#[cfg(test)]
mod tests {
    use super::*;

    const FLAT: Layout = Layout { files: &["a.txt", "b.txt"], folders: &[], inner: None };

    fn names(dir: &Path) -> Vec<String> {
        let mut v: Vec<String> =
            fs::read_dir(dir).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
        v.sort();
        v
    }

    fn fill(text: &'static str) -> impl FnOnce(&Path) -> io::Result<()> {
        move |d| {
            fs::write(d.join("a.txt"), text)?;
            fs::write(d.join("b.txt"), text)
        }
    }

    #[test]
    fn a_folder_is_replaced_whole_and_a_failure_keeps_the_old_one() {
        let root = tempfile::tempdir().unwrap();
        let target = root.path().join("out");
        publish_folder(&target, &FLAT, fill("one")).unwrap();
        publish_folder(&target, &FLAT, fill("two")).unwrap();
        assert_eq!(fs::read_to_string(target.join("b.txt")).unwrap(), "two");
        let failing = |d: &Path| {
            fs::write(d.join("a.txt"), "three")?;
            Err(io::Error::other("disk full"))
        };
        assert!(publish_folder(&target, &FLAT, failing).is_err());
        assert_eq!(fs::read_to_string(target.join("a.txt")).unwrap(), "two");
        assert_eq!(names(root.path()), ["out"], "no staging folder is left");
    }

    #[test]
    fn a_folder_with_foreign_entries_or_a_link_is_refused() {
        let root = tempfile::tempdir().unwrap();
        let target = root.path().join("out");
        fs::create_dir(&target).unwrap();
        fs::write(target.join("notes.txt"), "mine").unwrap();
        let e = publish_folder(&target, &FLAT, fill("x")).unwrap_err();
        assert!(e.to_string().contains("`notes.txt`"), "{e}");
        assert_eq!(fs::read_to_string(target.join("notes.txt")).unwrap(), "mine");
        #[cfg(unix)]
        {
            let link = root.path().join("link");
            std::os::unix::fs::symlink(&target, &link).unwrap();
            assert!(matches!(publish_folder(&link, &FLAT, fill("x")), Err(PublishError::Refused { .. })));
            assert!(fs::symlink_metadata(&link).unwrap().file_type().is_symlink());
        }
    }

    #[test]
    fn debris_of_a_dead_writer_goes_and_a_live_writers_stays() {
        let root = tempfile::tempdir().unwrap();
        let target = root.path().join("out");
        let dead = root.path().join(".out.streamsim-dead");
        let live = root.path().join(".out.streamsim-live");
        fs::create_dir(&dead).unwrap();
        fs::create_dir(&live).unwrap();
        let _held = lock(&live).expect("a folder can be locked");
        publish_folder(&target, &FLAT, fill("one")).unwrap();
        assert_eq!(names(root.path()), [".out.streamsim-live", "out"]);
    }

    #[test]
    fn a_folder_set_aside_by_a_cut_swap_is_put_back() {
        let root = tempfile::tempdir().unwrap();
        let target = root.path().join("out");
        let aside = root.path().join(".out.streamsim-old-abc");
        fs::create_dir(&aside).unwrap();
        fs::write(aside.join("a.txt"), "old").unwrap();
        remove_debris(root.path(), &staging_prefix(OsStr::new("out")), &target);
        assert_eq!(fs::read_to_string(target.join("a.txt")).unwrap(), "old");
    }

    #[test]
    fn the_two_rename_swap_replaces_the_folder() {
        let root = tempfile::tempdir().unwrap();
        let (old, new) = (root.path().join("out"), root.path().join("new"));
        fs::create_dir(&old).unwrap();
        fs::write(old.join("a.txt"), "old").unwrap();
        fs::create_dir(&new).unwrap();
        fs::write(new.join("a.txt"), "new").unwrap();
        swap_by_renames(&new, &old, root.path(), &staging_prefix(OsStr::new("out"))).unwrap();
        assert_eq!(fs::read_to_string(old.join("a.txt")).unwrap(), "new");
        assert_eq!(names(root.path()), ["out"]);
    }

    #[test]
    fn a_file_is_replaced_whole_and_links_are_not_followed() {
        let root = tempfile::tempdir().unwrap();
        let target = root.path().join("f.txt");
        publish_file(&target, b"one").unwrap();
        publish_file(&target, b"two").unwrap();
        assert_eq!(fs::read_to_string(&target).unwrap(), "two");
        let out = FileOutput::create(&target).unwrap();
        out.handle().unwrap().write_all(b"half").unwrap();
        drop(out);
        assert_eq!(fs::read_to_string(&target).unwrap(), "two", "no commit, no change");
        assert_eq!(names(root.path()), ["f.txt"]);
        #[cfg(unix)]
        {
            let link = root.path().join("link.txt");
            std::os::unix::fs::symlink(&target, &link).unwrap();
            assert!(matches!(publish_file(&link, b"x"), Err(PublishError::Refused { .. })));
            assert_eq!(fs::read_to_string(&target).unwrap(), "two");
            assert!(matches!(publish_file(root.path(), b"x"), Err(PublishError::Refused { .. })));
        }
    }
}
