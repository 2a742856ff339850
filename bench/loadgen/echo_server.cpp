// Beast's own WebSocket echo server, the far anchor of bench/native: one thread, one io_context,
// asynchronous sessions, in the manner of Beast's example websocket_server_async, so that it
// compares with the single-threaded Node servers. Beast's defaults otherwise (auto_fragment, 4 KiB
// write buffer, no timeouts); TCP_NODELAY set as every server of the benchmark sets it (an echo is
// a request and its answer: Nagle's algorithm and the peer's delayed ACK hold back a message's
// last frame by ~40 ms otherwise). Built by bench/native-build.ts:
//
//   g++ -std=c++17 -O2 -pthread echo_server.cpp -o echo_server
//
// Listens on 127.0.0.1, on a port of the kernel's choosing, prints "listening <port>", echoes every
// message (text as text, binary as binary), and exits at the end of stdin.

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/websocket.hpp>

#include <cstdlib>
#include <iostream>
#include <memory>
#include <string>

namespace beast = boost::beast;
namespace websocket = beast::websocket;
namespace net = boost::asio;
using tcp = net::ip::tcp;

namespace {

class session : public std::enable_shared_from_this<session>
{
    websocket::stream<tcp::socket> ws_;
    beast::flat_buffer buffer_;

public:
    explicit session(tcp::socket sock) : ws_(std::move(sock)) {}

    void run()
    {
        ws_.next_layer().set_option(tcp::no_delay(true));
        ws_.read_message_max(64 * 1024 * 1024);
        ws_.async_accept([self = shared_from_this()](beast::error_code ec)
        {
            if(! ec)
                self->read();
        });
    }

private:
    void read()
    {
        ws_.async_read(buffer_, [self = shared_from_this()](beast::error_code ec, std::size_t)
        {
            if(ec)
                return; // closed by the peer, or failed: the session ends
            self->ws_.text(self->ws_.got_text());
            self->ws_.async_write(self->buffer_.data(), [self](beast::error_code ec, std::size_t)
            {
                if(ec)
                    return;
                self->buffer_.consume(self->buffer_.size());
                self->read();
            });
        });
    }
};

void accept(tcp::acceptor& acceptor)
{
    acceptor.async_accept([&acceptor](beast::error_code ec, tcp::socket sock)
    {
        if(! ec)
            std::make_shared<session>(std::move(sock))->run();
        accept(acceptor);
    });
}

} // namespace

int main()
{
    net::io_context ioc(1);
    tcp::acceptor acceptor(ioc, tcp::endpoint(net::ip::make_address("127.0.0.1"), 0));
    std::cout << "listening " << acceptor.local_endpoint().port() << std::endl;
    accept(acceptor);

    // The end of stdin stops the server (the benchmark closes it).
    net::posix::stream_descriptor in(ioc, ::dup(0));
    char sink[64];
    std::function<void()> watch = [&]
    {
        in.async_read_some(net::buffer(sink), [&](beast::error_code ec, std::size_t)
        {
            if(ec)
                std::_Exit(0);
            watch();
        });
    };
    watch();
    ioc.run();
}
