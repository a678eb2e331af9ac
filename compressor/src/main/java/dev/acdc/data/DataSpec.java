package dev.acdc.data;

import dev.acdc.AcdcException;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Parses a data set spec: {@code cifar10:FILE[,FILE…]}, {@code idx:IMAGES,LABELS}, {@code folder:DIR},
 * {@code list:FILE} (image paths, one per line, optionally with a label).
 */
public final class DataSpec {
    private DataSpec() {
    }

    /**
     * The files (or, for {@code folder:}, the folder) a spec names, for checks before any work such as
     * "never write over an input"; empty for a spec without a kind. Does not open anything.
     */
    public static List<Path> files(String spec) {
        List<Path> files = new ArrayList<>();
        int colon = spec == null ? -1 : spec.indexOf(':');
        if (colon < 0) {
            return files;
        }
        if (spec.startsWith("list:")) { // the list and every image it names (unreadable: the open says why)
            Path list = Path.of(spec.substring(colon + 1));
            files.add(list);
            try {
                files.addAll(FolderDataset.listedImages(list));
            } catch (AcdcException e) {
                // reported when the data are opened
            }
            return files;
        }
        for (String f : spec.substring(colon + 1).split(",")) {
            if (!f.isEmpty()) {
                files.add(Path.of(f));
            }
        }
        return files;
    }

    public static Dataset open(String spec) {
        return open(spec, ImageGeometry.NONE);
    }

    /**
     * Opens {@code spec}; {@code geometry} brings the images of a {@code folder:} to one size (the other
     * kinds have one size already, and a geometry other than none is refused for them).
     */
    public static Dataset open(String spec, ImageGeometry geometry) {
        ImageGeometry g = geometry == null ? ImageGeometry.NONE : geometry;
        if (!g.isNone() && !spec.startsWith("folder:") && !spec.startsWith("list:")) {
            throw new AcdcException("--resize, --crop, --color and --preset apply to folder: and list: data, not to '"
                    + spec + "'");
        }
        int colon = spec.indexOf(':');
        if (colon < 0) {
            throw new AcdcException("data spec '" + spec + "' needs a kind: cifar10:FILE[,FILE...], idx:IMAGES[,LABELS] "
                    + ", folder:DIR or list:FILE");
        }
        String kind = spec.substring(0, colon);
        String rest = spec.substring(colon + 1);
        if (rest.isEmpty()) {
            throw new AcdcException("data spec '" + spec + "' names no file");
        }
        return switch (kind) {
            case "cifar10" -> {
                List<Path> files = new ArrayList<>();
                for (String f : rest.split(",")) {
                    files.add(Path.of(f));
                }
                yield new Cifar10Dataset(files);
            }
            case "idx" -> {
                String[] parts = rest.split(",");
                if (parts.length > 2) {
                    throw new AcdcException("idx: takes IMAGES[,LABELS], got " + parts.length + " files");
                }
                yield new IdxDataset(Path.of(parts[0]), parts.length > 1 ? Path.of(parts[1]) : null);
            }
            case "folder" -> new FolderDataset(Path.of(rest), g);
            case "list" -> FolderDataset.fromList(Path.of(rest), g);
            default -> throw new AcdcException("unknown data kind '" + kind + "' (choose cifar10, idx, folder or list)");
        };
    }
}
