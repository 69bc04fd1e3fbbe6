// kisee_argon2_rate [memory_kib] [iterations] [seconds]: the machine's raw
// argon2id hash rate with one thread per core, the physical limit of
// password logins. Prints "argon2id_hashes_per_s <rate>".
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <thread>
#include <vector>

#include "kisee/crypto/password.h"

int main(int argc, char** argv) {
  kisee::crypto::Argon2Params params;
  if (argc > 1) params.memory_kib = static_cast<std::uint32_t>(std::atoi(argv[1]));
  if (argc > 2) params.iterations = static_cast<std::uint32_t>(std::atoi(argv[2]));
  const double seconds = argc > 3 ? std::atof(argv[3]) : 5.0;
  const std::size_t threads = kisee::crypto::DefaultHashingThreads();
  std::atomic<bool> stop{false};
  std::atomic<long> done{0};
  std::vector<std::thread> workers;
  const auto start = std::chrono::steady_clock::now();
  for (std::size_t i = 0; i < threads; ++i) {
    workers.emplace_back([&] {
      while (!stop.load()) {
        if (!kisee::crypto::HashPassword("correct horse battery", params)) {
          std::fprintf(stderr, "hash failed\n");
          std::exit(1);
        }
        done.fetch_add(1);
      }
    });
  }
  std::this_thread::sleep_for(std::chrono::duration<double>(seconds));
  stop = true;
  for (auto& w : workers) w.join();
  const double elapsed =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf("argon2id_hashes_per_s %.1f (m=%u KiB t=%u, %zu threads)\n", done / elapsed,
              params.memory_kib, params.iterations, threads);
  return 0;
}
