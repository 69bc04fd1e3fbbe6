// Delivery of password-reset e-mails through SMTP ([email] settings), from a
// bounded queue, after the HTTP answer, with retries (kisee-api.md §6).
#pragma once

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <string>
#include <string_view>

#include "idp/backend.h"
#include "kisee/core/worker_pool.h"
#include "kisee/idp/settings.h"

namespace kisee::idp {

// RenderTemplate replaces {username}, {token} and {reset_url} in `text`.
std::string RenderTemplate(std::string_view text, std::string_view username, std::string_view token,
                           std::string_view reset_url);

// Mailer sends reset e-mails on its own thread. A failed delivery is retried
// with back-off from 1 s to 60 s and given up after 24 h (logged without the
// token). Thread-safe.
class Mailer {
 public:
  explicit Mailer(const EmailSettings& settings);
  ~Mailer() { Shutdown(); }
  Mailer(const Mailer&) = delete;
  Mailer& operator=(const Mailer&) = delete;

  // Enqueue queues the reset e-mail for `user`. Errors: kResourceExhausted
  // when the queue (256 messages) is full or the mailer is stopping.
  Status Enqueue(const User& user, std::string_view token);

  // Shutdown stops waiting between retries, makes one last attempt for every
  // queued message, and joins the thread. Idempotent.
  void Shutdown();

 private:
  Status SendOnce(const std::string& to, const std::string& subject, const std::string& body);
  void Deliver(const User& user, const std::string& token);

  const EmailSettings settings_;
  std::mutex mutex_;
  std::condition_variable wake_;
  std::atomic<bool> stopping_{false};
  WorkerPool pool_;
};

}  // namespace kisee::idp
