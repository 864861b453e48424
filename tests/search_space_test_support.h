#pragma once

// A base experiment shared by the search-space suites (tst_search_space_editor,
// tst_search_space_model).

namespace tunelab::test {

inline constexpr const char* kBase = R"({
  "name": "base", "seed": 1,
  "data": {"kind": "spirals", "samples": 200},
  "model": {"layers": [{"type": "linear", "out_features": 16}, {"type": "relu"},
                       {"type": "linear", "out_features": 2}]},
  "optimizer": {"type": "sgd", "lr": 0.01},
  "training": {"epochs": 5, "batch_size": 32}
})";

} // namespace tunelab::test
