#include "unlearn/method.h"

#include <algorithm>

namespace obl {

void check_unlearn_data(const UnlearnData& data) {
    OBL_CHECK(data.forget && data.retain, "unlearning needs both a forget and a retain set");
    OBL_CHECK(data.num_classes >= 2, "unlearning needs at least 2 classes, got ",
              data.num_classes);
    OBL_CHECK(!data.forget_classes.empty(), "no class to forget was given");
    std::vector<int> seen;
    for (int c : data.forget_classes) {
        OBL_CHECK(c >= 0 && c < data.num_classes, "forget class ", c, " is out of range [0, ",
                  data.num_classes, ")");
        OBL_CHECK(std::find(seen.begin(), seen.end(), c) == seen.end(), "forget class ", c,
                  " is listed twice");
        seen.push_back(c);
    }
    OBL_CHECK(static_cast<int>(seen.size()) < data.num_classes, "all ", data.num_classes,
              " classes would be forgotten: at least one class must be retained");
}

}  // namespace obl
