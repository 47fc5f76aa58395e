#pragma once

#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "cgroup/fd.h"
#include "cgroup/result.h"

// The one door to cgroupfs: every cgroup file and directory is opened, read, listed and written
// here, and nowhere else. A path is a single name resolved relative to an open directory fd
// without following symlinks (the parent given by path and the reclaim's reopening beneath it
// excepted, each with its own guard), so no rename or symlink planted in the tree can redirect a
// read or a write. Reads of the process's own eventfds, epoll set and inotify fd are not cgroup
// files and stay with their owners.
namespace cgmm::cgroup {

// Opens the child directory `name` of `dir_fd` (O_DIRECTORY | O_NOFOLLOW). Retries EINTR.
IoResult<Fd> open_dir_at(int dir_fd, const char* name);

// Opens file `name` under `dir_fd` for reading (O_RDONLY | O_NOFOLLOW | O_CLOEXEC). Retries EINTR.
IoResult<Fd> open_file_at(int dir_fd, const char* name);

// Reads the whole of an open file from offset 0 into `buf` (replacing its contents, reusing its
// capacity, at least 8 KiB). cgroupfs files are seq_files: a pread at a non-zero offset makes the
// kernel generate the whole text again to skip to it, so "read until 0" would double the cost. A
// read shorter than the buffer has reached the end, on seq_files as on regular files, so one pread
// is all it takes unless the buffer filled up. Retries EINTR.
IoStatus pread_all(int fd, const char* name, std::string& buf);

// open_file_at and pread_all of file `name` under `dir_fd`.
IoStatus read_file_at(int dir_fd, const char* name, std::string& buf);

// Reads a small file (one number) from offset 0 with a single pread into `buf`, which must be
// larger than the file: a cgroupfs read returns the whole text at once. Returns the length read;
// a result that fills `buf` may be cut short and is an error. Retries EINTR.
IoResult<size_t> pread_small(int fd, const char* name, char* buf, size_t size);

// Writes `data` to file `name` under `dir_fd` in one write (cgroupfs takes a control write whole).
// EINTR is returned, not retried: a blocking reclaim write is interrupted on purpose at shutdown.
IoStatus write_file_at(int dir_fd, const char* name, std::string_view data);

// True when `name` exists under `dir_fd` (a symlink is not followed).
bool exists_at(int dir_fd, const char* name);

struct ChildDir {
  std::string name;
  uint64_t inode;
};

// Lists the subdirectories of `dir_fd`, a freshly opened directory (its offset at the start), with
// getdents64. A directory that vanished lists as empty.
std::vector<ChildDir> list_child_dirs(int dir_fd);

// Opens the directory `rel` ("a/b/c", or "." for `root_fd` itself) below `root_fd`, never
// following a symlink, never leaving root_fd's mount and never going above it: openat2 with
// RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_XDEV, or one O_NOFOLLOW openat a component on
// kernels before 5.6.
IoResult<Fd> open_dir_beneath(int root_fd, std::string_view rel);

// Opens `path` as given (absolute or relative to the working directory) without following a
// final symlink and without O_DIRECTORY, so that the caller can tell a file from a directory.
IoResult<Fd> open_path(const std::string& path);

// The directory `dir_fd` and each of its ancestors on mount `dev` below that mount's root, root
// first. The mount root itself is left out; so is every directory once ".." leaves `dev`.
std::vector<Fd> open_ancestors_below_mount_root(int dir_fd, dev_t dev);

}  // namespace cgmm::cgroup
