#pragma once

#include <map>
#include <stdexcept>

#include "ipam/store.hpp"

namespace sdnet::test {

// An in-memory Store, as the reference's backend/testing/fake_store.go.
class FakeStore final : public ipam::Store {
public:
    std::map<netlib::IpAddr, ipam::Attachment> reserved;
    std::map<std::size_t, netlib::IpAddr> last;
    int reserve_calls = 0;
    bool locked = false;

    void lock() override {
        if (locked) {
            throw std::logic_error("FakeStore: already locked");
        }
        locked = true;
    }

    void unlock() noexcept override { locked = false; }

    bool reserve(const ipam::Attachment& holder, const netlib::IpAddr& ip,
                 std::size_t set) override {
        require_lock();
        ++reserve_calls;
        if (!reserved.emplace(ip, holder).second) {
            return false;
        }
        last[set] = ip;
        return true;
    }

    std::optional<netlib::IpAddr> last_reserved(std::size_t set) override {
        require_lock();
        auto it = last.find(set);
        return it == last.end() ? std::nullopt : std::optional<netlib::IpAddr>{it->second};
    }

    std::vector<netlib::IpAddr> find(const ipam::Attachment& holder) override {
        require_lock();
        std::vector<netlib::IpAddr> out;
        for (const auto& [ip, h] : reserved) {
            if (h == holder) {
                out.push_back(ip);
            }
        }
        return out;
    }

    bool release(const netlib::IpAddr& ip, const std::optional<ipam::Attachment>& holder) override {
        require_lock();
        auto it = reserved.find(ip);
        if (it == reserved.end() || (holder && it->second != *holder)) {
            return false;
        }
        reserved.erase(it);
        return true;
    }

    std::vector<netlib::IpAddr> release_all(const ipam::Attachment& holder) override {
        auto ips = find(holder);
        for (const auto& ip : ips) {
            reserved.erase(ip);
        }
        return ips;
    }

    std::vector<ipam::Reservation> list() override {
        require_lock();
        std::vector<ipam::Reservation> out;
        for (const auto& [ip, h] : reserved) {
            out.push_back({ip, h});
        }
        return out;
    }

private:
    void require_lock() const {
        if (!locked) {
            throw std::logic_error("FakeStore: lock not held");
        }
    }
};

}  // namespace sdnet::test
