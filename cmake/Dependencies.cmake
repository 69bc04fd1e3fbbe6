# Every third-party dependency, found once, exposed as an imported target.
# Libraries link these names; nothing else in the tree calls find_package.

find_package(PkgConfig REQUIRED)
find_package(Threads REQUIRED)
find_package(OpenSSL 3.0 REQUIRED)                      # OpenSSL::SSL OpenSSL::Crypto
find_package(Boost 1.80 REQUIRED)                       # Boost::headers (Beast, Asio)
find_package(fmt REQUIRED)                              # fmt::fmt
find_package(spdlog REQUIRED)                           # spdlog::spdlog
find_package(nlohmann_json 3.10 REQUIRED)               # nlohmann_json::nlohmann_json
find_package(tomlplusplus REQUIRED)                     # tomlplusplus::tomlplusplus
find_package(yaml-cpp REQUIRED)                         # yaml-cpp
find_package(CLI11 QUIET CONFIG)                        # CLI11::CLI11 (header only)
find_package(Protobuf REQUIRED)                         # protobuf::libprotobuf, protoc
find_package(SQLite3 REQUIRED)                          # SQLite::SQLite3
find_package(GTest REQUIRED)                            # GTest::gtest_main GTest::gmock
find_package(benchmark REQUIRED)                        # benchmark::benchmark

pkg_check_modules(SODIUM REQUIRED IMPORTED_TARGET libsodium)       # PkgConfig::SODIUM
pkg_check_modules(SECP256K1 REQUIRED IMPORTED_TARGET libsecp256k1) # PkgConfig::SECP256K1
pkg_check_modules(RE2 REQUIRED IMPORTED_TARGET re2)                # PkgConfig::RE2
pkg_check_modules(PQXX REQUIRED IMPORTED_TARGET libpqxx)           # PkgConfig::PQXX
pkg_check_modules(PQ REQUIRED IMPORTED_TARGET libpq)               # PkgConfig::PQ (libpqxx's own link misses it)
pkg_check_modules(CURL REQUIRED IMPORTED_TARGET libcurl)           # PkgConfig::CURL
pkg_check_modules(LIBCRYPT REQUIRED IMPORTED_TARGET libcrypt)      # PkgConfig::LIBCRYPT
pkg_check_modules(IDN2 REQUIRED IMPORTED_TARGET libidn2)           # PkgConfig::IDN2 (certified: IDNA host names)

# OpenLDAP ships no pkg-config file on Debian 12.
find_library(LDAP_LIBRARY ldap REQUIRED)
find_library(LBER_LIBRARY lber REQUIRED)
add_library(kisee_ldap INTERFACE)
target_link_libraries(kisee_ldap INTERFACE ${LDAP_LIBRARY} ${LBER_LIBRARY})
add_library(LDAP::LDAP ALIAS kisee_ldap)

if(NOT TARGET CLI11::CLI11)
  find_path(CLI11_INCLUDE_DIR CLI/CLI.hpp REQUIRED)
  add_library(kisee_cli11 INTERFACE)
  target_include_directories(kisee_cli11 SYSTEM INTERFACE ${CLI11_INCLUDE_DIR})
  add_library(CLI11::CLI11 ALIAS kisee_cli11)
endif()
