#pragma once
// revive-server as a library: the running daemon (the io thread owning the state, the HTTP
// server's network thread, thread pools for blocking work and for pushes' imports, the deadline
// tick, signal handling)
// and its command line.

#include <cstdint>
#include <memory>
#include <string>

#include "app/config.hpp"
#include "revive/error.hpp"

namespace revive::server {

class App {
 public:
  explicit App(ServerConfig cfg);
  ~App();

  /// Opens state and store, binds the listener. Error when any of that fails.
  Result<void> start();
  /// The bound port.
  std::uint16_t port() const;
  /// The HTTPS listener's bound port (0: off) and its key's pin (revive/tls_pin.hpp).
  std::uint16_t tls_port() const;
  std::string tls_pin() const;
  /// What start() made for TLS (a self-signed certificate on first start), to be logged; or "".
  std::string tls_made() const;
  /// Bound boot-service ports (0 when off).
  std::uint16_t dhcp_port() const;
  std::uint16_t tftp_port() const;
  /// What the deployment scheduler plans with (uplink rate and its source, relay on/off), for
  /// the log after the listening line.
  const std::string& deployments_line() const;
  /// Runs until SIGTERM/SIGINT (or stop()); returns after the graceful shutdown.
  void run();
  /// Asks a running server to shut down gracefully (thread-safe).
  void stop();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

/// `revive-server` command line (used by main.cpp and tests).
int run_server_main(int argc, char** argv);

}  // namespace revive::server
