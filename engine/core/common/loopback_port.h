#pragma once

namespace tunelab {

// A TCP port on the loopback interface that nothing listens on now (0 when none could be had), for
// processes that are told where to meet before the first of them listens there.
int freeLoopbackPort();

} // namespace tunelab
