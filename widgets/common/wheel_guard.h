#pragma once

class QWidget;

namespace tunelab {

// Scrolling a form never changes a value: the mouse wheel over a spin box, combo box or slider that
// does not have the keyboard focus scrolls whatever holds it instead (a click or Tab gives the field
// focus, after which the wheel steps it as usual). Installed once for the whole application; every
// window and form that has such fields calls it, and calling it again does nothing.
void guardWheelEvents();

} // namespace tunelab
