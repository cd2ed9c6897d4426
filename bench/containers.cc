/* containers.cc - a C++ program whose allocations come from the standard
 * containers: strings, vectors, lists, ordered and unordered maps, and
 * shared pointers, built, searched, edited and torn down in rounds.  Every
 * allocation goes through operator new/delete, with the deep, template-made
 * call stacks of real C++ code.  Nothing leaks.
 *
 * usage: containers [ROUNDS]   (default 40)
 * Prints "rounds=N checksum=C" on stderr (C depends only on ROUNDS).
 */
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <list>
#include <map>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

namespace {

struct Rng {
    uint64_t s;
    uint64_t next()
    {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        return s;
    }
};

struct Item {
    std::string name;
    std::vector<int> values;
    std::shared_ptr<std::string> tag;
};

std::string make_name(Rng &r)
{
    std::string s = "item-";
    s += std::to_string(r.next() % 100000);
    if (r.next() & 1)
        s += "-with-a-suffix-long-enough-to-leave-the-small-string-buffer";
    return s;
}

uint64_t round_of(Rng &r)
{
    std::unordered_map<std::string, Item> byname;
    std::map<uint64_t, std::string> ordered;
    std::list<std::vector<char>> queue;
    uint64_t sum = 0;

    for (int i = 0; i < 20000; i++) {
        Item it;
        it.name = make_name(r);
        it.values.resize(1 + r.next() % 48, i);
        it.tag = std::make_shared<std::string>(it.name + "#tag");
        ordered.emplace(r.next(), it.name);
        queue.emplace_back(16 + r.next() % 200, 'x');
        if (queue.size() > 512)
            queue.pop_front();
        byname[it.name] = std::move(it);
    }
    for (int i = 0; i < 20000; i++) {
        auto f = byname.find(make_name(r));
        if (f != byname.end()) {
            sum += f->second.values.size();
            f->second.values.push_back(i);
        }
        auto o = ordered.lower_bound(r.next());
        if (o != ordered.end()) {
            sum += o->second.size();
            ordered.erase(o);
        }
    }
    return sum + byname.size() + ordered.size();
}

} // namespace

int main(int argc, char **argv)
{
    int rounds = argc > 1 ? std::atoi(argv[1]) : 40;
    Rng r{0x2545f4914f6cdd1dull};
    uint64_t sum = 0;

    for (int i = 0; i < rounds; i++)
        sum += round_of(r);
    std::fprintf(stderr, "rounds=%d checksum=%llu\n", rounds, (unsigned long long)sum);
    return 0;
}
