// kisee's own optional modules: the parts that need heavy client libraries
// (libpq for PostgreSQL, libldap, libcurl for SMTP) are shared objects loaded
// with dlopen only when the settings use them, so that a kisee on the
// default SQLite store maps none of those libraries (kisee-api.md keeps idle
// RSS under 15 MB). Modules come from the same build as the executable, so
// C++ types cross the boundary; the ABI check below refuses a module from
// another build. (Third-party backends use the C ABI of
// kisee/idp/plugin.h instead.)
//
// A module is <executable dir>/../lib/kisee/kisee-<name>.so, or
// $KISEE_MODULE_DIR/kisee-<name>.so when that variable is set. Loaded
// modules are never unloaded.
#pragma once

#include <cstddef>
#include <filesystem>
#include <memory>
#include <string_view>

#include "idp/backend.h"
#include "idp/sql_driver.h"
#include "kisee/core/error.h"
#include "kisee/idp/settings.h"

namespace kisee::idp {

class MailTransport;

// kModuleAbi changes whenever ModuleApi or a type it passes changes.
inline constexpr int kModuleAbi = 1;

// ModuleApi is what a module exports through its `kisee_module_api`
// function. Unused entries are null.
struct ModuleApi {
  int abi;  // kModuleAbi of the module's build
  // layout: sizeof of the types passed by reference, a cheap check that the
  // module and the executable were built from the same sources.
  std::size_t settings_size;
  std::size_t context_size;
  // create_backend makes the backend of BackendContext::settings (ldap).
  Result<std::unique_ptr<IdentityBackend>> (*create_backend)(const BackendContext& context);
  // create_sql_driver makes a PostgreSQL SqlDriver (postgresql).
  Result<std::unique_ptr<SqlDriver>> (*create_sql_driver)(const PostgresqlDriverOptions& options);
  // create_mail_transport makes the SMTP transport of `settings` (smtp).
  Result<std::unique_ptr<MailTransport>> (*create_mail_transport)(const EmailSettings& settings);
};

// kModuleEntry is the exported symbol: extern "C" const ModuleApi* kisee_module_api().
inline constexpr const char* kModuleEntry = "kisee_module_api";

// MakeModuleApi fills the ABI fields; modules call it.
inline ModuleApi MakeModuleApi() {
  return ModuleApi{.abi = kModuleAbi,
                   .settings_size = sizeof(Settings),
                   .context_size = sizeof(BackendContext),
                   .create_backend = nullptr,
                   .create_sql_driver = nullptr,
                   .create_mail_transport = nullptr};
}

// ModuleDirectory is where modules are looked for (see the file comment).
std::filesystem::path ModuleDirectory();

// LoadModule loads kisee-<name>.so once and returns its API. Errors
// (kFailedPrecondition, one line naming the file): not found, not loadable
// (e.g. a missing library), no entry point, or an ABI from another build.
// Thread-safe.
Result<const ModuleApi*> LoadModule(std::string_view name);

}  // namespace kisee::idp
