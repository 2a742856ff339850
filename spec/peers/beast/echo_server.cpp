// A Beast WebSocket server for tsbeast's peer specs (spec/peers/beast.spec.ts and
// spec/peers/differential.spec.ts). Built with Debian's Boost by the spec setup:
//
//   g++ -std=c++17 -O1 -pthread echo_server.cpp -o beast_echo_server
//
//   beast_echo_server echo           accepts connections (one thread each) and echoes messages.
//                                    A text message "!ping <data>" makes the server send a ping
//                                    with <data> first; "!close <code> <reason>" makes it close
//                                    with that code and reason instead of echoing.
//   beast_echo_server diff <max>     accepts connections one at a time, with read_message_max
//                                    <max>; runs accept(), then reads (and drops) messages until
//                                    an error. The close frame it sends is observed by the peer.
//
// Both listen on 127.0.0.1 on a port of the kernel's choosing and print "listening <port>".
// Each connection ends with one line:
//   end <id> <stage> <category> <value> <code> <reason...>
// where <stage> is accept, read or close, <category> <value> the error_code (- 0 for success),
// and <code> <reason> what ws.reason() holds. Control frames print "control <id> <kind> <data>".
// The process exits when stdin reaches its end (the spec closes it).

#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/websocket.hpp>

#include <cstdlib>
#include <iostream>
#include <mutex>
#include <string>
#include <thread>

namespace beast = boost::beast;
namespace websocket = beast::websocket;
namespace net = boost::asio;
using tcp = net::ip::tcp;

namespace {

std::mutex out_mutex;

void say(std::string const& line)
{
    std::lock_guard<std::mutex> lock(out_mutex);
    std::cout << line << std::endl;
}

std::string describe(beast::error_code const& ec)
{
    if(! ec)
        return "- 0";
    return std::string(ec.category().name()) + " " + std::to_string(ec.value());
}

std::string kind_name(websocket::frame_type kind)
{
    switch(kind)
    {
    case websocket::frame_type::close: return "close";
    case websocket::frame_type::ping: return "ping";
    case websocket::frame_type::pong: return "pong";
    }
    return "?";
}

void report_end(std::size_t id, char const* stage, beast::error_code const& ec,
    websocket::stream<tcp::socket> const& ws)
{
    auto const& cr = ws.reason();
    say("end " + std::to_string(id) + " " + stage + " " + describe(ec) + " " +
        std::to_string(cr.code) + " " + std::string(cr.reason.data(), cr.reason.size()));
}

void echo_session(tcp::socket sock, std::size_t id)
{
    websocket::stream<tcp::socket> ws(std::move(sock));
    ws.control_callback(
        [id](websocket::frame_type kind, beast::string_view data)
        {
            say("control " + std::to_string(id) + " " + kind_name(kind) + " " +
                std::string(data.data(), data.size()));
        });
    beast::error_code ec;
    ws.accept(ec);
    if(ec)
        return report_end(id, "accept", ec, ws);
    beast::flat_buffer b;
    for(;;)
    {
        ws.read(b, ec);
        if(ec)
            return report_end(id, "read", ec, ws);
        if(ws.got_text())
        {
            auto const text = beast::buffers_to_string(b.data());
            if(text.rfind("!ping ", 0) == 0)
            {
                auto const data = text.substr(6);
                ws.ping(websocket::ping_data(data.c_str()), ec);
                if(ec)
                    return report_end(id, "ping", ec, ws);
            }
            else if(text.rfind("!close ", 0) == 0)
            {
                auto const rest = text.substr(7);
                auto const space = rest.find(' ');
                auto const code = std::atoi(rest.substr(0, space).c_str());
                auto const reason = space == std::string::npos ? std::string() : rest.substr(space + 1);
                ws.close(websocket::close_reason(
                    static_cast<websocket::close_code>(code), reason.c_str()), ec);
                return report_end(id, "close", ec, ws);
            }
        }
        ws.text(ws.got_text());
        ws.write(b.data(), ec);
        if(ec)
            return report_end(id, "write", ec, ws);
        b.consume(b.size());
    }
}

void diff_session(tcp::socket sock, std::size_t id, std::size_t max)
{
    websocket::stream<tcp::socket> ws(std::move(sock));
    ws.read_message_max(max);
    beast::error_code ec;
    ws.accept(ec);
    if(ec)
        return report_end(id, "accept", ec, ws);
    beast::flat_buffer b;
    for(;;)
    {
        ws.read(b, ec);
        if(ec)
            return report_end(id, "read", ec, ws);
        b.consume(b.size());
    }
}

} // namespace

int main(int argc, char** argv)
{
    std::string const mode = argc > 1 ? argv[1] : "";
    if(mode != "echo" && mode != "diff")
    {
        std::cerr << "usage: beast_echo_server echo | diff <read_message_max>\n";
        return 2;
    }
    std::size_t const max = argc > 2 ? std::strtoull(argv[2], nullptr, 10) : 0;
    net::io_context ioc;
    tcp::acceptor acceptor(ioc, tcp::endpoint(net::ip::make_address("127.0.0.1"), 0));
    say("listening " + std::to_string(acceptor.local_endpoint().port()));

    // The spec closes stdin to stop the server.
    std::thread([]
    {
        std::string line;
        while(std::getline(std::cin, line)) {}
        std::_Exit(0);
    }).detach();

    for(std::size_t id = 1;; ++id)
    {
        tcp::socket sock(ioc);
        acceptor.accept(sock);
        if(mode == "echo")
            std::thread(echo_session, std::move(sock), id).detach();
        else
            diff_session(std::move(sock), id, max);
    }
}
