#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "cgroup/fd.h"
#include "cgroup/result.h"

// The only place where cgroupfs files are opened, read and written. Every path is a single name
// resolved relative to an open directory fd without following symlinks, so no rename or symlink
// planted in the tree can redirect a read or a write.
namespace cgmm::cgroup {

// Opens the child directory `name` of `dir_fd` (O_DIRECTORY | O_NOFOLLOW).
IoResult<Fd> open_dir_at(int dir_fd, const char* name);

// Reads the whole of file `name` under `dir_fd` into `buf` (replacing its contents, reusing its
// capacity). Retries EINTR.
IoStatus read_file_at(int dir_fd, const char* name, std::string& buf);

// Reads the whole of an already open file from offset 0 into `buf`. Retries EINTR.
IoStatus pread_all(int fd, const char* name, std::string& buf);

// Reads a small file (one number) from offset 0 with a single pread into `buf`, which must be
// larger than the file: a cgroupfs read returns the whole text at once. Returns the length read;
// a result that fills `buf` may be cut short and is an error. Retries EINTR.
IoResult<size_t> pread_small(int fd, const char* name, char* buf, size_t size);

// Writes `data` to file `name` under `dir_fd` in one write (cgroupfs takes a control write whole).
// EINTR is returned, not retried: a blocking reclaim write is interrupted on purpose at shutdown.
IoStatus write_file_at(int dir_fd, const char* name, std::string_view data);

}  // namespace cgmm::cgroup
