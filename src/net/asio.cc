// Asio (and its SSL part) compiled once for the whole project
// (BOOST_ASIO_SEPARATE_COMPILATION): every other file only sees declarations,
// which keeps builds fast on two cores.
#include <boost/asio/impl/src.hpp>
#include <boost/asio/ssl/impl/src.hpp>
