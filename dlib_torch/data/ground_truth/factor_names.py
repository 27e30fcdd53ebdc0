"""Factor names of the reference data sets, in factor order (the names that split predicates use)."""

DSPRITES = ["shape", "scale", "orientation", "posX", "posY"]
SHAPES3D = ["floor_hue", "wall_hue", "object_hue", "scale", "shape", "orientation"]
MPI3D = ["object_color", "object_shape", "object_size", "camera_height", "background_color",
         "horizontal_axis", "vertical_axis"]
SMALLNORB = ["category", "elevation", "azimuth", "lighting"]
CARS3D = ["elevation", "azimuth", "object_type"]
ABSTRACT_DSPRITES = ["background_color", "object_color", "shape", "scale", "posX", "posY"]
