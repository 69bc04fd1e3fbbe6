/* Deliberately broken backend plugins for the loader's tests, one per
 * KISEE_TEST_* definition. Written in C: it also proves that
 * kisee/idp/plugin.h is a C header. */
#include <stddef.h>
#include <string.h>

#include "kisee/idp/plugin.h"

static const kisee_host* the_host;

static kisee_status Create(const kisee_host* host, const kisee_option* options, size_t count,
                           void** instance, kisee_out* error) {
  (void)options;
  (void)count;
  the_host = host;
#if defined(KISEE_TEST_CREATE_FAILS)
  static const char kReason[] = "cannot reach the user store at example.invalid\nsecond line";
  kisee_str reason = {kReason, sizeof(kReason) - 1};
  host->set_text(error, reason);
  *instance = NULL;
  return KISEE_UNAVAILABLE;
#else
  (void)error;
  static int token;
  *instance = &token;
  return KISEE_OK;
#endif
}

static void Destroy(void* instance) { (void)instance; }

/* Misbehaves: claims success without a user, or answers a status that does
 * not exist. */
static kisee_status Identify(void* instance, kisee_str username, kisee_str password,
                             kisee_out* user) {
  (void)instance;
  (void)password;
  (void)user;
  if (username.size == 5 && memcmp(username.data, "ghost", 5) == 0) {
    return KISEE_OK;
  }
  return (kisee_status)42;
}

static kisee_status Lookup(void* instance, kisee_str key, kisee_out* user) {
  (void)instance;
  (void)key;
  (void)user;
  return KISEE_NOT_FOUND;
}

/* KISEE_TEST_NO_ENTRY: the entry point of another ABI generation only. */
#if defined(KISEE_TEST_NO_ENTRY)
#define ENTRY kisee_backend_plugin_v0
#else
#define ENTRY kisee_backend_plugin_v1
#endif

__attribute__((visibility("default"))) const kisee_backend_plugin* ENTRY(
    uint32_t host_abi_version) {
  static kisee_backend_plugin table;
  (void)host_abi_version;
  memset(&table, 0, sizeof(table));
  table.abi_version = KISEE_PLUGIN_ABI_VERSION;
  table.struct_size = sizeof(table);
  table.name = "broken";
  table.create = Create;
  table.destroy = Destroy;
  table.identify = Identify;
  table.get_user_by_username = Lookup;
  table.get_user_by_email = Lookup;
#if defined(KISEE_TEST_WRONG_ABI)
  table.abi_version = 99;
#endif
#if defined(KISEE_TEST_MISSING_FUNCTION)
  table.identify = NULL;
#endif
  return &table;
}
