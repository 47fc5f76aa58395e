#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <thread>

#include "obs/http_message.h"
#include "obs/listen_address.h"

namespace cgmm::obs {

// Runs on the server's thread, one request at a time; an exception becomes a 500.
using HttpHandler = std::function<HttpResponse()>;

struct HttpServerOptions {
  ListenAddress address;
  // Connections beyond this many are accepted and closed at once.
  std::size_t max_connections = 16;
  // Request line and headers; larger requests get 431.
  std::size_t max_header_bytes = std::size_t{8} * 1024;
  // From accept to the end of the response; a client that is not done by then is dropped
  // (with a 408 if it had not sent a whole request).
  std::chrono::milliseconds request_timeout{5000};
};

// A read-only HTTP/1.1 listener on its own thread: GET and HEAD of registered paths, any query
// string ignored; 404 for other paths, 405 for other methods, 400 for malformed requests. Each
// response carries Connection: close. Request bodies are never read.
class HttpServer {
 public:
  explicit HttpServer(HttpServerOptions options);
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Registers before start(); the handlers are read without locking once the thread runs.
  void handle(std::string path, HttpHandler handler);

  // Binds and listens, then serves on a new thread and returns. Throws std::system_error
  // ("failed to listen on <address>: <reason>") when the address cannot be bound.
  void start();

  // Closes the listener and every connection and joins the thread; returns without waiting for
  // clients. Idempotent; the destructor calls it.
  void stop();

  // The bound port (useful with port 0); 0 before start().
  std::uint16_t port() const { return port_; }

 private:
  void run();

  HttpServerOptions options_;
  std::map<std::string, HttpHandler, std::less<>> handlers_;
  int listen_fd_ = -1;
  int wake_fd_ = -1;
  std::uint16_t port_ = 0;
  std::thread thread_;
};

}  // namespace cgmm::obs
