// The kisee-smtp module: reset e-mails through libcurl's SMTP client (plain,
// STARTTLS or implicit TLS, optional authentication). A module so that
// libcurl and the ~30 libraries it maps are loaded only when the settings
// send e-mail (see idp/module.h).
#include <curl/curl.h>
#include <fmt/format.h>

#include <cstring>

#include "idp/mailer.h"
#include "idp/module.h"

namespace kisee::idp {
namespace {

struct Upload {
  std::string_view data;
  std::size_t offset = 0;
};

std::size_t ReadBody(char* buffer, std::size_t size, std::size_t count, void* user) {
  auto* upload = static_cast<Upload*>(user);
  std::size_t n = std::min(size * count, upload->data.size() - upload->offset);
  std::memcpy(buffer, upload->data.data() + upload->offset, n);
  upload->offset += n;
  return n;
}

// CurlTransport makes one SMTP session per message: reset e-mails are rare,
// and a fresh session never trips over a connection the server dropped.
class CurlTransport final : public MailTransport {
 public:
  explicit CurlTransport(const EmailSettings& settings)
      : settings_(settings),
        url_(fmt::format("{}://{}:{}", settings.security == "tls" ? "smtps" : "smtp", settings.host,
                         settings.port)) {}

  Status Send(std::string_view from, std::string_view to, std::string_view message) override {
    CURL* curl = curl_easy_init();
    if (curl == nullptr) {
      return MakeError(ErrorCode::kUnavailable, "smtp: curl_easy_init failed");
    }
    Upload upload{message};
    const std::string mail_from = fmt::format("<{}>", from);
    const std::string rcpt = fmt::format("<{}>", to);
    curl_slist* recipients = curl_slist_append(nullptr, rcpt.c_str());
    char error[CURL_ERROR_SIZE] = {0};
    curl_easy_setopt(curl, CURLOPT_URL, url_.c_str());
    curl_easy_setopt(curl, CURLOPT_MAIL_FROM, mail_from.c_str());
    curl_easy_setopt(curl, CURLOPT_MAIL_RCPT, recipients);
    curl_easy_setopt(curl, CURLOPT_READFUNCTION, ReadBody);
    curl_easy_setopt(curl, CURLOPT_READDATA, &upload);
    curl_easy_setopt(curl, CURLOPT_UPLOAD, 1L);
    curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT, 10L);
    curl_easy_setopt(curl, CURLOPT_TIMEOUT, 60L);
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, error);
    if (settings_.security == "starttls") {
      // CURLUSESSL_ALL: refuse to continue in clear text when the server
      // does not offer STARTTLS (no downgrade).
      curl_easy_setopt(curl, CURLOPT_USE_SSL, static_cast<long>(CURLUSESSL_ALL));
    }
    if (!settings_.ca_file.empty()) {
      curl_easy_setopt(curl, CURLOPT_CAINFO, settings_.ca_file.c_str());
    }
    if (!settings_.username.empty()) {
      curl_easy_setopt(curl, CURLOPT_USERNAME, settings_.username.c_str());
      curl_easy_setopt(curl, CURLOPT_PASSWORD, settings_.password.c_str());
    }
    CURLcode rc = curl_easy_perform(curl);
    curl_slist_free_all(recipients);
    curl_easy_cleanup(curl);
    if (rc != CURLE_OK) {
      // curl's messages name the step and the server's reply, never the
      // credentials or the message text.
      return MakeError(ErrorCode::kUnavailable,
                       fmt::format("smtp {}:{}: {}{}{}", settings_.host, settings_.port,
                                   curl_easy_strerror(rc), error[0] != '\0' ? ": " : "", error));
    }
    return Ok();
  }

 private:
  const EmailSettings settings_;
  const std::string url_;
};

Result<std::unique_ptr<MailTransport>> CreateTransport(const EmailSettings& settings) {
  static const CURLcode init = curl_global_init(CURL_GLOBAL_DEFAULT);
  if (init != CURLE_OK) {
    return MakeError(ErrorCode::kFailedPrecondition,
                     fmt::format("libcurl failed to initialise: {}", curl_easy_strerror(init)));
  }
  return std::unique_ptr<MailTransport>(new CurlTransport(settings));
}

}  // namespace
}  // namespace kisee::idp

extern "C" __attribute__((visibility("default"))) const kisee::idp::ModuleApi* kisee_module_api() {
  static const kisee::idp::ModuleApi api = [] {
    kisee::idp::ModuleApi a = kisee::idp::MakeModuleApi();
    a.create_mail_transport = &kisee::idp::CreateTransport;
    return a;
  }();
  return &api;
}
