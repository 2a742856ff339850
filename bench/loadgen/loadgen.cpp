// A native WebSocket load generator for tsbeast's benchmarks (bench/native.ts), on Boost.Beast and
// Boost.Asio: one thread, one io_context, so that on a 2-core machine it takes one core at most and
// leaves the other to the server under test. Built by bench/native-build.ts with Debian's Boost:
//
//   g++ -std=c++17 -O2 -pthread loadgen.cpp -o loadgen
//
//   loadgen <mode> --port P [--host 127.0.0.1] [--size N] [--conns C] [--inflight K]
//           [--seconds S] [--warmup W] [--pid PID]
//
// Modes:
//   ws        C WebSocket connections (Beast's client: a masking key per frame, as any client); each
//             keeps K binary messages of N bytes in flight (a new one goes out when an echo comes
//             back; one frame per message). A message counts when its echo has been read whole.
//   raw       the same over bare TCP, for an echo that does no framing: N bytes out, N bytes back.
//   handshake C lanes, each opening a connection, doing the WebSocket upgrade and the closing
//             handshake (Beast's async_close: close frame both ways, then the TCP close), again and
//             again. A handshake counts when the close has completed.
//   connect   the same with no WebSocket: connect, shut down the sending side, read to the end.
//
// Once every connection has had its first echo (ws, raw) or every lane has started (handshake,
// connect), a warm-up of W seconds (default: S/4, at most 0.5), then a measured window of S
// seconds; set-up has 60 s. Over that window it reads the CPU time (utime + stime, all threads) of process
// PID from /proc/PID/stat, and its own from getrusage. It prints one JSON line:
//   {"messages":..,"bytes":..,"seconds":..,"rate":..,"p50_us":..,"p99_us":..,"server_cpu_s":..,
//    "self_cpu_s":..,"errors":..}
// and exits 0, or prints the reason to stderr and exits 1 if a connection could not be set up or
// failed while measured.

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/websocket.hpp>

#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <fstream>
#include <iostream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

namespace beast = boost::beast;
namespace websocket = beast::websocket;
namespace net = boost::asio;
using tcp = net::ip::tcp;
using clock_type = std::chrono::steady_clock;

namespace {

struct options
{
    std::string mode;
    std::string host = "127.0.0.1";
    unsigned short port = 0;
    std::size_t size = 16;
    int conns = 1;
    int inflight = 1;
    double seconds = 1.5;
    double warmup = -1;
    long pid = 0;
};

[[noreturn]] void die(std::string const& why)
{
    std::cerr << "loadgen: " << why << std::endl;
    std::_Exit(1);
}

options parse(int argc, char** argv)
{
    options o;
    if(argc < 2)
        die("usage: loadgen ws|raw|handshake|connect --port P [--size N] [--conns C] [--inflight K] "
            "[--seconds S] [--warmup W] [--pid PID] [--host H]");
    o.mode = argv[1];
    if(o.mode != "ws" && o.mode != "raw" && o.mode != "handshake" && o.mode != "connect")
        die("unknown mode " + o.mode);
    for(int i = 2; i + 1 < argc; i += 2)
    {
        std::string const k = argv[i];
        char const* v = argv[i + 1];
        if(k == "--host") o.host = v;
        else if(k == "--port") o.port = static_cast<unsigned short>(std::atoi(v));
        else if(k == "--size") o.size = std::strtoull(v, nullptr, 10);
        else if(k == "--conns") o.conns = std::atoi(v);
        else if(k == "--inflight") o.inflight = std::atoi(v);
        else if(k == "--seconds") o.seconds = std::atof(v);
        else if(k == "--warmup") o.warmup = std::atof(v);
        else if(k == "--pid") o.pid = std::atol(v);
        else die("unknown option " + k);
    }
    if(o.port == 0) die("--port is required");
    if(o.conns < 1 || o.inflight < 1) die("--conns and --inflight must be at least 1");
    if(o.warmup < 0) o.warmup = std::min(0.5, o.seconds / 4);
    return o;
}

// ---- CPU time ------------------------------------------------------------------------------------

/** utime + stime of process `pid` in seconds (every thread of it), or -1 if it cannot be read. */
double process_cpu(long pid)
{
    if(pid <= 0)
        return -1;
    std::ifstream f("/proc/" + std::to_string(pid) + "/stat");
    std::string all((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
    // The command name (field 2) is in parentheses and may hold spaces: count fields after it.
    auto const close = all.rfind(')');
    if(close == std::string::npos)
        return -1;
    std::istringstream in(all.substr(close + 2));
    std::string field;
    unsigned long long utime = 0, stime = 0;
    for(int i = 3; i <= 15 && in >> field; ++i)
    {
        if(i == 14) utime = std::stoull(field);
        if(i == 15) stime = std::stoull(field);
    }
    return static_cast<double>(utime + stime) / static_cast<double>(sysconf(_SC_CLK_TCK));
}

double self_cpu()
{
    rusage u{};
    getrusage(RUSAGE_SELF, &u);
    auto const s = [](timeval t) { return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_usec) / 1e6; };
    return s(u.ru_utime) + s(u.ru_stime);
}

// ---- what every connection shares ------------------------------------------------------------------

struct run_state
{
    options opt;
    net::io_context ioc;
    tcp::endpoint ep;
    std::vector<char> payload;
    bool running = true;    // new messages (or handshakes) may start
    bool measuring = false; // completions count
    std::size_t messages = 0;
    std::size_t errors = 0;
    std::vector<float> latencies_us;
    int ready = 0;
    std::function<void()> all_ready;

    void done(clock_type::time_point sent)
    {
        if(! measuring)
            return;
        ++messages;
        latencies_us.push_back(std::chrono::duration<float, std::micro>(clock_type::now() - sent).count());
    }

    void fail(char const* what, beast::error_code const& ec)
    {
        if(! running)
            return; // the run is over and sockets are being closed
        if(measuring)
            ++errors;
        if(! measuring || errors == 1)
            std::cerr << "loadgen: " << what << ": " << ec.message() << std::endl;
        if(! measuring && ready < opt.conns)
            std::_Exit(1); // set-up failed: nothing to measure
    }

    void up()
    {
        if(++ready == opt.conns)
            all_ready();
    }
};

// ---- ws: echo over WebSocket -----------------------------------------------------------------------

class ws_conn : public std::enable_shared_from_this<ws_conn>
{
    run_state& st_;
    websocket::stream<tcp::socket> ws_;
    beast::flat_buffer rb_;
    std::deque<clock_type::time_point> sent_;
    bool writing_ = false;
    bool echoed_ = false;

public:
    explicit ws_conn(run_state& st) : st_(st), ws_(st.ioc) {}

    void start()
    {
        ws_.next_layer().async_connect(st_.ep, [self = shared_from_this()](beast::error_code ec) { self->on_connect(ec); });
    }

    void stop()
    {
        beast::error_code ec;
        ws_.next_layer().close(ec);
    }

private:
    void on_connect(beast::error_code ec)
    {
        if(ec)
            return st_.fail("connect", ec);
        ws_.next_layer().set_option(tcp::no_delay(true));
        ws_.async_handshake(st_.opt.host + ":" + std::to_string(st_.opt.port), "/",
            [self = shared_from_this()](beast::error_code ec) { self->on_handshake(ec); });
    }

    void on_handshake(beast::error_code ec)
    {
        if(ec)
            return st_.fail("handshake", ec);
        ws_.binary(true);
        ws_.auto_fragment(false); // one frame per message, as the node:net generator sends
        ws_.write_buffer_bytes(64 * 1024);
        ws_.read_message_max(64 * 1024 * 1024);
        read();
        pump();
    }

    void pump()
    {
        if(writing_ || ! st_.running || sent_.size() >= static_cast<std::size_t>(st_.opt.inflight))
            return;
        writing_ = true;
        sent_.push_back(clock_type::now());
        ws_.async_write(net::buffer(st_.payload),
            [self = shared_from_this()](beast::error_code ec, std::size_t)
            {
                self->writing_ = false;
                if(ec)
                    return self->st_.fail("write", ec);
                self->pump();
            });
    }

    void read()
    {
        ws_.async_read(rb_, [self = shared_from_this()](beast::error_code ec, std::size_t) { self->on_read(ec); });
    }

    void on_read(beast::error_code ec)
    {
        if(ec)
            return st_.fail("read", ec);
        if(rb_.size() != st_.payload.size())
            die("echo of " + std::to_string(rb_.size()) + " bytes for " + std::to_string(st_.payload.size()));
        rb_.consume(rb_.size());
        if(! echoed_)
            echoed_ = true, st_.up();
        st_.done(sent_.front());
        sent_.pop_front();
        pump();
        read();
    }
};

// ---- raw: echo over bare TCP -----------------------------------------------------------------------

class raw_conn : public std::enable_shared_from_this<raw_conn>
{
    run_state& st_;
    tcp::socket sock_;
    std::vector<char> rb_ = std::vector<char>(64 * 1024);
    std::deque<clock_type::time_point> sent_;
    std::size_t due_ = 0; // bytes of the oldest message still to come back
    bool writing_ = false;
    bool echoed_ = false;

public:
    explicit raw_conn(run_state& st) : st_(st), sock_(st.ioc) {}

    void start()
    {
        sock_.async_connect(st_.ep, [self = shared_from_this()](beast::error_code ec)
        {
            if(ec)
                return self->st_.fail("connect", ec);
            self->sock_.set_option(tcp::no_delay(true));
            self->due_ = self->st_.payload.size();
            self->read();
            self->pump();
        });
    }

    void stop()
    {
        beast::error_code ec;
        sock_.close(ec);
    }

private:
    void pump()
    {
        if(writing_ || ! st_.running || sent_.size() >= static_cast<std::size_t>(st_.opt.inflight))
            return;
        writing_ = true;
        sent_.push_back(clock_type::now());
        net::async_write(sock_, net::buffer(st_.payload),
            [self = shared_from_this()](beast::error_code ec, std::size_t)
            {
                self->writing_ = false;
                if(ec)
                    return self->st_.fail("write", ec);
                self->pump();
            });
    }

    void read()
    {
        sock_.async_read_some(net::buffer(rb_), [self = shared_from_this()](beast::error_code ec, std::size_t n)
        {
            if(ec)
                return self->st_.fail("read", ec);
            while(n > 0)
            {
                auto const k = std::min(n, self->due_);
                n -= k;
                self->due_ -= k;
                if(self->due_ == 0)
                {
                    self->due_ = self->st_.payload.size();
                    if(! self->echoed_)
                        self->echoed_ = true, self->st_.up();
                    self->st_.done(self->sent_.front());
                    self->sent_.pop_front();
                }
            }
            self->pump();
            self->read();
        });
    }
};

// ---- handshake / connect: one lane opening and closing connections ----------------------------------

class lane : public std::enable_shared_from_this<lane>
{
    run_state& st_;
    bool websocket_;
    std::unique_ptr<websocket::stream<tcp::socket>> ws_;
    std::unique_ptr<tcp::socket> sock_;
    char sink_[256];
    clock_type::time_point t0_;

public:
    lane(run_state& st, bool websocket) : st_(st), websocket_(websocket) {}

    void start()
    {
        st_.up();
        next();
    }

    void stop()
    {
        beast::error_code ec;
        if(ws_) ws_->next_layer().close(ec);
        if(sock_) sock_->close(ec);
    }

private:
    tcp::socket& socket() { return websocket_ ? ws_->next_layer() : *sock_; }

    void next()
    {
        if(! st_.running)
            return;
        t0_ = clock_type::now();
        if(websocket_)
            ws_ = std::make_unique<websocket::stream<tcp::socket>>(st_.ioc);
        else
            sock_ = std::make_unique<tcp::socket>(st_.ioc);
        socket().async_connect(st_.ep, [self = shared_from_this()](beast::error_code ec) { self->on_connect(ec); });
    }

    void on_connect(beast::error_code ec)
    {
        if(ec)
            return retry("connect", ec);
        socket().set_option(tcp::no_delay(true));
        if(! websocket_)
        {
            sock_->shutdown(tcp::socket::shutdown_send, ec);
            return drain();
        }
        ws_->async_handshake(st_.opt.host + ":" + std::to_string(st_.opt.port), "/",
            [self = shared_from_this()](beast::error_code ec)
            {
                if(ec)
                    return self->retry("handshake", ec);
                self->ws_->async_close(websocket::close_code::normal, [self](beast::error_code ec)
                {
                    if(ec)
                        return self->retry("close", ec);
                    self->finish();
                });
            });
    }

    void drain()
    {
        sock_->async_read_some(net::buffer(sink_), [self = shared_from_this()](beast::error_code ec, std::size_t)
        {
            if(ec == net::error::eof)
                return self->finish();
            if(ec)
                return self->retry("read", ec);
            self->drain();
        });
    }

    void finish()
    {
        beast::error_code ec;
        socket().close(ec);
        st_.done(t0_);
        next();
    }

    void retry(char const* what, beast::error_code const& ec)
    {
        st_.fail(what, ec);
        beast::error_code ignored;
        socket().close(ignored);
        next();
    }
};

double percentile(std::vector<float>& v, double p)
{
    if(v.empty())
        return 0;
    auto const k = std::min(v.size() - 1, static_cast<std::size_t>(static_cast<double>(v.size()) * p));
    std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(k), v.end());
    return v[k];
}

} // namespace

int main(int argc, char** argv)
{
    run_state st;
    st.opt = parse(argc, argv);
    auto const& o = st.opt;
    st.ep = tcp::endpoint(net::ip::make_address(o.host), o.port);
    st.payload.assign(o.size, 'a');

    std::vector<std::function<void()>> stops;
    auto add = [&](auto c) { stops.push_back([c] { c->stop(); }); c->start(); };

    // Set-up must end: a server that never answers fails the measurement rather than hanging it.
    net::steady_timer deadline(st.ioc);
    deadline.expires_after(std::chrono::seconds(60));
    deadline.async_wait([&](beast::error_code ec)
    {
        if(! ec)
            die("set-up: " + std::to_string(st.ready) + " of " + std::to_string(o.conns) + " connections ready after 60 s");
    });

    net::steady_timer timer(st.ioc);
    double cpu0 = 0, self0 = 0, server0 = 0, elapsed = 0;
    clock_type::time_point t0;
    st.all_ready = [&]
    {
        deadline.cancel();
        timer.expires_after(std::chrono::duration_cast<clock_type::duration>(std::chrono::duration<double>(o.warmup)));
        timer.async_wait([&](beast::error_code)
        {
            st.measuring = true;
            server0 = process_cpu(o.pid);
            self0 = self_cpu();
            t0 = clock_type::now();
            timer.expires_after(std::chrono::duration_cast<clock_type::duration>(std::chrono::duration<double>(o.seconds)));
            timer.async_wait([&](beast::error_code)
            {
                st.measuring = false;
                elapsed = std::chrono::duration<double>(clock_type::now() - t0).count();
                cpu0 = process_cpu(o.pid) - server0;
                self0 = self_cpu() - self0;
                st.running = false;
                for(auto& s : stops) s();
                st.ioc.stop();
            });
        });
    };

    for(int i = 0; i < o.conns; ++i)
    {
        if(o.mode == "ws") add(std::make_shared<ws_conn>(st));
        else if(o.mode == "raw") add(std::make_shared<raw_conn>(st));
        else add(std::make_shared<lane>(st, o.mode == "handshake"));
    }
    st.ioc.run();

    auto const bytes = static_cast<double>(st.messages) * static_cast<double>(o.size);
    std::printf(
        "{\"messages\":%zu,\"bytes\":%.0f,\"seconds\":%.6f,\"rate\":%.3f,\"p50_us\":%.2f,\"p99_us\":%.2f,"
        "\"server_cpu_s\":%s,\"self_cpu_s\":%.6f,\"errors\":%zu}\n",
        st.messages, bytes, elapsed, static_cast<double>(st.messages) / elapsed,
        percentile(st.latencies_us, 0.5), percentile(st.latencies_us, 0.99),
        o.pid > 0 ? std::to_string(cpu0).c_str() : "null", self0, st.errors);
    return st.errors > 0 && o.mode != "handshake" && o.mode != "connect" ? 1 : 0;
}
