// sdrun image import|ls|inspect|rm: the image store.
#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <iomanip>
#include <iostream>
#include <nlohmann/json.hpp>
#include <optional>

#include "runtime/container/error.hpp"
#include "runtime/container/image_store.hpp"
#include "runtime/sdrun/cli.hpp"

namespace sdrun::cli {

namespace {

// Where scripts/setup writes the default images (busybox.tar); SDRUN_DEFAULT_IMAGES overrides.
constexpr const char* kDefaultImages = "/usr/local/share/sdrun";

}  // namespace

ImageInfo image_for_run(ImageStore& images, const std::string& name) {
    const char* dir = std::getenv("SDRUN_DEFAULT_IMAGES");  // NOLINT(concurrency-mt-unsafe)
    auto file = std::filesystem::path(dir != nullptr ? dir : kDefaultImages) / (name + ".tar");
    if (!valid_name(name) || images.contains(name) || !std::filesystem::is_regular_file(file)) {
        return images.get(name);
    }
    try {
        images.import(name, file);
    } catch (const Error& e) {
        if (!images.contains(name)) {  // else a concurrent run imported it first
            throw Error("cannot import the default image " + file.string() + ": " + e.what());
        }
    }
    return images.get(name);
}

int cmd_image_import(Invocation& inv) {
    po::options_description options("Options");
    options.add_options()("platform", po::value<std::string>(),
                          "os/arch[/variant] to take from a multi-platform image (default: the "
                          "host's)");
    auto p = parse(inv, "image import", options, {"NAME", "FILE"}, false);
    if (!p) {
        return 0;
    }
    std::optional<Platform> platform;
    if (p->vm.count("platform") != 0) {
        platform = Platform::parse(p->vm["platform"].as<std::string>());
    }
    auto imported = ImageStore(inv.root).import(p->positional[0], p->positional[1], platform);
    const auto& image = imported.image;
    inv.out << image.name << " " << image.digest << "\n";
    // As `docker pull` says "Already exists": which layers were shared with other images.
    for (const auto& layer : image.layers) {
        bool unpacked = std::find(imported.unpacked.begin(), imported.unpacked.end(), layer) !=
                        imported.unpacked.end();
        inv.out << "layer " << layer << (unpacked ? " unpacked" : " already present") << "\n";
    }
    return 0;
}

int cmd_image_ls(Invocation& inv) {
    po::options_description options("Options");
    options.add_options()("json", po::bool_switch(), "print the list as JSON");
    auto p = parse(inv, "image ls", options, {}, false);
    if (!p) {
        return 0;
    }
    auto images = ImageStore(inv.root).list();
    if (p->vm["json"].as<bool>()) {
        auto out = nlohmann::json::array();
        for (const auto& i : images) {
            out.push_back(
                {{"name", i.name}, {"digest", i.digest}, {"size", i.size}, {"created", i.created}});
        }
        inv.out << out.dump(2) << "\n";
        return 0;
    }
    inv.out << std::left << std::setw(20) << "NAME" << std::setw(22) << "DIGEST" << std::setw(22)
            << "CREATED"
            << "SIZE\n";
    for (const auto& i : images) {
        inv.out << std::setw(20) << i.name << std::setw(22) << i.digest.substr(0, 19)
                << std::setw(22) << i.created << i.size << "\n";
    }
    return 0;
}

int cmd_image_inspect(Invocation& inv) {
    auto p = parse(inv, "image inspect", po::options_description("Options"), {"NAME"}, false);
    if (!p) {
        return 0;
    }
    inv.out << ImageStore(inv.root).get(p->positional[0]).to_json().dump(2) << "\n";
    return 0;
}

int cmd_image_rm(Invocation& inv) {
    auto p = parse(inv, "image rm", po::options_description("Options"), {"NAME"}, false);
    if (!p) {
        return 0;
    }
    ImageStore(inv.root).remove(p->positional[0]);
    return 0;
}

}  // namespace sdrun::cli
