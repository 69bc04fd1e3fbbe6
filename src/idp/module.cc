#include "idp/module.h"

#include <dlfcn.h>
#include <fmt/format.h>

#include <cstdlib>
#include <map>
#include <mutex>
#include <system_error>

namespace kisee::idp {
namespace {

std::mutex modules_mutex;
std::map<std::string, const ModuleApi*, std::less<>> loaded;  // guarded by modules_mutex

std::string OneLine(std::string text) {
  for (char& c : text) {
    if (c == '\n' || c == '\r') {
      c = ' ';
    }
  }
  return text;
}

}  // namespace

std::filesystem::path ModuleDirectory() {
  if (const char* dir = std::getenv("KISEE_MODULE_DIR"); dir != nullptr && *dir != '\0') {
    return dir;
  }
  // Relative to the executable, not to the working directory: an installed
  // /usr/bin/kisee finds /usr/lib/kisee, a build tree's build/bin/kisee finds
  // build/lib/kisee, wherever it is started from.
  std::error_code ec;
  std::filesystem::path exe = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (ec) {
    return "/usr/lib/kisee";
  }
  return exe.parent_path().parent_path() / "lib" / "kisee";
}

Result<const ModuleApi*> LoadModule(std::string_view name) {
  std::lock_guard lock(modules_mutex);
  if (auto it = loaded.find(name); it != loaded.end()) {
    return it->second;
  }
  const std::filesystem::path path = ModuleDirectory() / fmt::format("kisee-{}.so", name);
  auto fail = [&](std::string_view why) {
    return MakeError(ErrorCode::kFailedPrecondition,
                     OneLine(fmt::format("module {}: {}", path.string(), why)));
  };
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) {
    return fail("not found (is kisee fully installed?)");
  }
  // RTLD_LOCAL keeps the module's symbols (its copies of kisee's static
  // libraries included) out of the global namespace.
  void* handle = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (handle == nullptr) {
    const char* why = dlerror();
    return fail(why != nullptr ? why : "cannot be loaded");
  }
  using Entry = const ModuleApi* (*)();
  auto entry = reinterpret_cast<Entry>(dlsym(handle, kModuleEntry));
  if (entry == nullptr) {
    dlclose(handle);
    return fail(fmt::format("no {} symbol", kModuleEntry));
  }
  const ModuleApi* api = entry();
  if (api == nullptr || api->abi != kModuleAbi || api->settings_size != sizeof(Settings) ||
      api->context_size != sizeof(BackendContext)) {
    dlclose(handle);
    return fail("built from other sources than this kisee (module ABI mismatch)");
  }
  loaded.emplace(std::string(name), api);
  return api;
}

}  // namespace kisee::idp
