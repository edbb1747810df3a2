// Unit tests of the server's writer gate (server-stub/store/writer_gate.h): one
// writer at a time, in arrival order, short writes before push batches.
#include <catch2/catch.hpp>

#include <chrono>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "writer_gate.h"  // the server's own code (server-stub/store/)

using kehu::server::WriterGate;
using std::chrono::milliseconds;

namespace {

// Waits (a hang guard of 10 s) until `gate` has `n` writers waiting.
void until_waiting(WriterGate& gate, std::size_t n) {
  for (int i = 0; i < 10000 && gate.waiting() != n; ++i) std::this_thread::sleep_for(milliseconds(1));
  REQUIRE(gate.waiting() == n);
}

}  // namespace

TEST_CASE("writer gate: a short write waiting goes in before the push batches that came first", "[server][gate]") {
  WriterGate gate;
  std::mutex mu;
  std::vector<std::string> order;
  WriterGate::Pass inside = gate.enter(true, milliseconds(1000));
  REQUIRE(inside);
  auto writer = [&](const std::string& name, bool batch) {
    return std::thread([&, name, batch] {
      WriterGate::Pass p = gate.enter(batch, milliseconds(10000));
      REQUIRE(p);
      std::lock_guard<std::mutex> lock(mu);
      order.push_back(name);
    });
  };
  std::thread b1 = writer("batch 1", true);
  until_waiting(gate, 1);
  std::thread b2 = writer("batch 2", true);
  until_waiting(gate, 2);
  std::thread s1 = writer("login", false);
  until_waiting(gate, 3);
  std::thread s2 = writer("lease", false);
  until_waiting(gate, 4);
  inside.release();
  for (std::thread* t : {&b1, &b2, &s1, &s2}) t->join();
  CHECK(order == std::vector<std::string>{"login", "lease", "batch 1", "batch 2"});
}

TEST_CASE("writer gate: a writer that waited too long leaves the line and the next goes on", "[server][gate]") {
  WriterGate gate;
  WriterGate::Pass inside = gate.enter(false, milliseconds(1000));
  REQUIRE(inside);
  CHECK_FALSE(gate.enter(false, milliseconds(20)));  // timed out: an empty pass
  CHECK(gate.waiting() == 0);
  bool got = false;
  std::thread next([&] { got = static_cast<bool>(gate.enter(true, milliseconds(10000))); });
  until_waiting(gate, 1);
  inside.release();
  next.join();
  CHECK(got);
  CHECK(gate.waiting() == 0);
  WriterGate::Pass again = gate.enter(false, milliseconds(1000));  // the pass of `next` left with it
  CHECK(again);
}
