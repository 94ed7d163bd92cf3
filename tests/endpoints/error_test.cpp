#include "grainflow/endpoints/error.hpp"

#include <gtest/gtest.h>

#include <string>
#include <system_error>

using namespace grainflow;

namespace {

struct code_info {
  error code;
  int value;
  const char* name;
};

// The numbers are wire protocol: this table pins them.
constexpr code_info all_codes[] = {
    {error::broken_promise, 1, "broken_promise"},
    {error::request_maybe_delivered, 2, "request_maybe_delivered"},
    {error::endpoint_not_found, 3, "endpoint_not_found"},
    {error::connection_failed, 4, "connection_failed"},
    {error::timed_out, 5, "timed_out"},
    {error::cancelled, 6, "cancelled"},
    {error::serialization_failed, 7, "serialization_failed"},
    {error::checksum_failed, 8, "checksum_failed"},
    {error::packet_too_large, 9, "packet_too_large"},
    {error::incompatible_protocol, 10, "incompatible_protocol"},
    {error::unauthorized, 11, "unauthorized"},
    {error::malformed_packet, 12, "malformed_packet"},
    {error::wrong_message_type, 13, "wrong_message_type"},
    {error::transport_closed, 14, "transport_closed"},
};

class app_category final : public std::error_category {
public:
  explicit app_category(const char* name)
      : name_{name} {}
  const char* name() const noexcept override { return name_; }
  std::string message(int) const override { return "app failure"; }

private:
  const char* name_;
};

} // namespace

TEST(error_test, every_code_keeps_its_number_name_and_a_distinct_message) {
  std::string previous;
  for (const auto& info : all_codes) {
    SCOPED_TRACE(info.name);
    EXPECT_EQ(static_cast<int>(info.code), info.value);
    EXPECT_EQ(to_string(info.code), info.name);
    std::error_code ec = info.code;
    EXPECT_EQ(ec.value(), info.value);
    EXPECT_EQ(&ec.category(), &grainflow_category());
    EXPECT_FALSE(ec.message().empty());
    EXPECT_NE(ec.message(), "unknown grainflow error");
    EXPECT_NE(ec.message(), previous);
    previous = ec.message();
  }
}

TEST(error_test, values_outside_the_enum_are_unknown) {
  EXPECT_EQ(grainflow_category().message(0), "unknown grainflow error");
  EXPECT_EQ(grainflow_category().message(15), "unknown grainflow error");
  EXPECT_EQ(grainflow_category().message(-3), "unknown grainflow error");
  EXPECT_EQ(to_string(static_cast<error>(99)), "unknown");
}

TEST(error_test, the_category_is_called_grainflow) {
  EXPECT_STREQ(grainflow_category().name(), "grainflow");
}

TEST(error_test, error_codes_compare_with_the_enum_and_only_within_the_category) {
  std::error_code ec = make_error_code(error::timed_out);
  EXPECT_EQ(ec, error::timed_out);
  EXPECT_NE(ec, error::cancelled);
  // Same number, other category: not the same error.
  EXPECT_NE(ec, std::error_code(5, std::generic_category()));
  EXPECT_NE(ec, std::errc::io_error); // EIO is 5 on Linux
  EXPECT_TRUE(static_cast<bool>(ec));
  ec = error::broken_promise;
  EXPECT_EQ(ec.value(), 1);
}

TEST(error_test, builtin_categories_are_always_registered) {
  EXPECT_EQ(find_error_category("grainflow"), &grainflow_category());
  EXPECT_EQ(find_error_category("generic"), &std::generic_category());
  EXPECT_EQ(find_error_category("system"), &std::system_category());
  EXPECT_EQ(find_error_category("no such category"), nullptr);
}

TEST(error_test, an_application_registers_its_category_to_send_its_errors) {
  static const app_category app{"error_test.app"};
  EXPECT_EQ(find_error_category("error_test.app"), nullptr);
  register_error_category(app);
  EXPECT_EQ(find_error_category("error_test.app"), &app);
  // Registering again is harmless.
  register_error_category(app);
  EXPECT_EQ(find_error_category("error_test.app"), &app);
}

TEST(error_test, a_second_category_with_a_taken_name_is_refused) {
  static const app_category first{"error_test.clash"};
  static const app_category second{"error_test.clash"};
  EXPECT_TRUE(try_register_error_category(first));
  EXPECT_FALSE(try_register_error_category(second));
  EXPECT_TRUE(try_register_error_category(grainflow_category())); // same object again
  EXPECT_EQ(find_error_category("error_test.clash"), &first);
  // register_error_category treats a clash as a programmer error: debug
  // builds stop on it, release builds keep the first category.
  EXPECT_DEBUG_DEATH(register_error_category(second), "already uses this name");
  EXPECT_EQ(find_error_category("error_test.clash"), &first);
}
