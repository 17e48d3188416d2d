#include <pybind11/stl.h>

#include <cstring>

#include "bindings.h"

namespace facekit::bindings {

py::capsule region_owner(const Arena& arena, const void* data) {
    auto handle = std::make_unique<std::shared_ptr<const void>>(arena.hold(data));
    py::capsule owner(handle.get(), [](void* held) {
        delete static_cast<std::shared_ptr<const void>*>(held);  // may unmap a retired region
    });
    handle.release();  // the capsule owns it now
    return owner;
}

namespace {

// Called by refuse_buffer to raise the export error (kept alive for the process's lifetime).
PyObject* buffer_refusal = nullptr;

int refuse_buffer(PyObject*, Py_buffer* buffer, int) {
    buffer->obj = nullptr;
    PyObject* nothing = PyObject_CallNoArgs(buffer_refusal);  // raises: returns nullptr
    Py_XDECREF(nothing);
    if (!PyErr_Occurred())
        PyErr_SetString(PyExc_TypeError, "this array refuses the buffer protocol");
    return -1;
}

}  // namespace

void register_arena(py::module_& m) {
    m.def("refuse_buffer_protocol",
          [](const py::type& cls, const py::function& refusal) {
              auto* type = reinterpret_cast<PyTypeObject*>(cls.ptr());
              if (!(type->tp_flags & Py_TPFLAGS_HEAPTYPE) || type->tp_as_buffer == nullptr)
                  throw py::type_error("refuse_buffer_protocol takes a Python-defined class");
              // A heap type owns its buffer slots: this changes this class (and subclasses
              // made later), never numpy's ndarray.
              Py_XDECREF(buffer_refusal);
              buffer_refusal = refusal.inc_ref().ptr();
              type->tp_as_buffer->bf_getbuffer = refuse_buffer;
              PyType_Modified(type);
          },
          py::arg("cls"), py::arg("refusal"),
          "Make the buffer protocol (bytes(), memoryview, marshal, hashlib, file writes) of a "
          "Python-defined class call `refusal`, which raises, instead of exporting its memory. "
          "Python 3.12's __buffer__ does this for Python classes; this covers 3.10 and 3.11.");

    refuse_pickling(py::class_<Arena, std::shared_ptr<Arena>>(
                        m, "Arena", "Page-locked, guard-paged memory wiped per frame."))
        .def(py::init([](std::size_t region_bytes, bool lock, bool verify_wipe,
                         bool debug_skip_wipe) {
                 ArenaOptions options;
                 options.region_bytes = region_bytes;
                 options.lock = lock;
                 options.verify_wipe = verify_wipe;
                 options.debug_skip_wipe = debug_skip_wipe;
                 return std::make_shared<Arena>(options);
             }),
             py::arg("region_bytes") = ArenaOptions{}.region_bytes, py::arg("lock") = true,
             py::arg("verify_wipe") = false, py::arg("debug_skip_wipe") = false)
        // The GIL stays held: a wipe is microseconds, and holding it orders the wipe against any
        // allocation another thread could attempt on the same arena.
        .def("wipe", &Arena::wipe, "Zero every byte handed out in this frame and start over.")
        .def("allocate",
             [](py::object self, const std::vector<py::ssize_t>& shape) {
                 std::size_t count = 1;
                 for (py::ssize_t d : shape) {
                     if (d < 0) throw std::invalid_argument("arena array dimensions must be >= 0");
                     count *= static_cast<std::size_t>(d);
                 }
                 Arena& arena = self.cast<Arena&>();
                 return arena_view(arena, arena.allocate_array<float>(count ? count : 1), shape);
             },
             py::arg("shape"),
             "Zeroed float32 block for native writers (ONNX Runtime's bound outputs), as a "
             "read-only view.")
        .def("expose",
             [](py::object self, const py::array& source) {
                 contiguous_floats(source, "the array to expose");
                 if (source.ndim() < 1)
                     throw std::invalid_argument("expose takes an array of at least one axis");
                 const py::ssize_t cols = source.shape(source.ndim() - 1);
                 const py::ssize_t rows = cols ? source.size() / cols : 0;
                 float* padded = self.cast<Arena&>().allocate_array<float>(
                     static_cast<std::size_t>(rows * (cols + 1)) + 1);
                 const auto* from = static_cast<const float*>(source.data());
                 for (py::ssize_t r = 0; r < rows; ++r)
                     std::memcpy(padded + r * (cols + 1), from + r * cols, cols * sizeof(float));
                 // Same shape, rows one float apart: not C-contiguous, so the buffer protocol's
                 // simple form (marshal, and any C code that wants flat bytes) refuses it.
                 std::vector<py::ssize_t> shape(source.shape(), source.shape() + source.ndim());
                 std::vector<py::ssize_t> strides(shape.size());
                 py::ssize_t step = sizeof(float);
                 for (std::size_t i = shape.size(); i-- > 0;) {
                     strides[i] = step;
                     step *= (i + 1 == shape.size()) ? shape[i] + 1 : shape[i];
                 }
                 py::array_t<float> view(shape, strides, padded,
                                         region_owner(self.cast<Arena&>(), padded));
                 py::detail::array_proxy(view.ptr())->flags &=
                     ~py::detail::npy_api::NPY_ARRAY_WRITEABLE_;
                 return view;
             },
             py::arg("source"),
             "A row-padded, read-only copy of an arena array, as handed to applications.")
        .def_property_readonly("used", &Arena::used)
        .def_property_readonly("capacity", &Arena::capacity)
        .def_property_readonly("verify_wipe",
                               [](const Arena& a) { return a.options().verify_wipe; })
        .def_property_readonly("debug_skip_wipe",
                               [](const Arena& a) { return a.options().debug_skip_wipe; })
        .def("regions",
             [](const Arena& a) {
                 py::list out;
                 for (const RegionInfo& r : a.regions()) {
                     py::dict d;
                     d["start"] = r.start;
                     d["size"] = r.size;
                     d["used"] = r.used;
                     d["locked"] = r.locked;
                     d["dontdump"] = r.dontdump;
                     d["wipeonfork"] = r.wipeonfork;
                     d["retired"] = r.retired;
                     d["released"] = r.released;
                     out.append(d);
                 }
                 return out;
             },
             "Address range, use and kernel protections of each region (live ones first, then "
             "the retired ones that views of ended frames still hold).")
        .def_static("page_size", &Arena::page_size);
}

}  // namespace facekit::bindings
