// httplib's Server or SSLServer with connection_guard.h's limits: each accepted
// connection is served by serve_connection() (per-address cap, header and body
// deadlines) on an ElasticPool worker instead of httplib's own loop, which waits
// 60 s per recv() and restarts that wait with every byte.
//
// httplib 0.11.4 (Debian's, compiled in) runs a connection's whole keep-alive
// loop in the virtual process_and_close_socket(sock), on one worker; its
// process_request() (protected) parses and answers one request from a Stream.
// Overriding the first and calling the second keeps all of httplib's request
// handling and replaces only the socket I/O.
#pragma once

#include <httplib.h>

#include <chrono>
#include <type_traits>
#include <utility>

#include "body_decoder.h"
#include "connection_guard.h"
#include "elastic_pool.h"
#include "http_limits.h"
#include "server_config.h"

namespace kehu::server {

template <typename Base>
class GuardedServer : public Base {
 public:
  template <typename... Args>
  explicit GuardedServer(HttpLimits limits, Args&&... args)
      : Base(std::forward<Args>(args)...), limits_(limits), peers_(limits.max_connections_per_address) {
    this->new_task_queue = [max = limits_.max_workers] {
      return new ElasticPool(config::kMinWorkers, max, std::chrono::seconds(config::kWorkerIdleSeconds));
    };
  }

 private:
  bool process_and_close_socket(int sock) override {  // socket_t is int on POSIX
    SSL_CTX* tls = nullptr;
    if constexpr (std::is_base_of_v<httplib::SSLServer, Base>) tls = this->ssl_context();
    return serve_connection(sock, tls, limits_, peers_, this->svr_sock_, this->keep_alive_max_count_,
                            [this](httplib::Stream& strm, bool close_connection, bool& connection_closed) {
                              const bool served =
                                  this->process_request(strm, close_connection, connection_closed, nullptr);
                              end_request_body();  // answered or not, its body budget is given back
                              return served;
                            });
  }

  const HttpLimits limits_;
  PeerCounter peers_;
};

}  // namespace kehu::server
